/**
 * Our rule sets as firewalld direct entries, and the test that tells our
 * entries from everybody else's. Pure: nothing here talks to firewalld.
 *
 * Every custom chain becomes a `<chain>` and every rule a `<rule>` (never a
 * passthrough: firewalld loads all chains, then all rules, then all
 * passthroughs, so rules could not jump to chains a passthrough creates; see
 * firewalld F3, docs/firewalld.md#f3).
 *
 * @module
 */
import type { Family, Rule, RuleSet } from "../rules/model.ts";
import { isForeignJump, isOurChain, isOurRule } from "../rules/ownership.ts";
import { ruleArgs as renderRuleArgs } from "../rules/render.ts";

/** firewalld's name for an address family: `ipv4` (iptables), `ipv6` (ip6tables), `eb` (ebtables). */
export type Ipv = "ipv4" | "ipv6" | "eb";

/** `<chain ipv table chain/>`: a custom chain firewalld creates. */
export interface DirectChain {
  kind: "chain";
  ipv: Ipv;
  table: string;
  chain: string;
}

/** `<rule ipv table chain priority>args</rule>`: within a chain, lower priority comes first. */
export interface DirectRule {
  kind: "rule";
  ipv: Ipv;
  table: string;
  chain: string;
  priority: number;
  args: string[];
}

/** `<passthrough ipv>args</passthrough>`: never ours, always kept. */
export interface DirectPassthrough {
  kind: "passthrough";
  ipv: Ipv;
  args: string[];
}

export type DirectEntry = DirectChain | DirectRule | DirectPassthrough;

/** The signature of `ruleArgs()` in src/rules/render.ts: argv of the rule spec without `-A CHAIN`. */
export type RuleArgs = (rule: Rule, options: { verbose: boolean; comments: boolean }) => string[];

/** Options of {@link toDirectEntries}. */
export interface ToDirectEntriesOptions {
  /** The renderer; default src/rules/render.ts `ruleArgs`. Tests may pass a stand-in. */
  ruleArgs?: RuleArgs;
  /** Long option names (`--protocol`) instead of short ones. Default false. */
  verbose?: boolean;
  /** Tag rules with the `kuma/mesh/transparent/proxy` comment. Default true. */
  comments?: boolean;
}

/** Maps our address family to firewalld's `ipv` attribute (kumactl wrote `ipv4` for both). */
export function ipvOf(family: Family): "ipv4" | "ipv6" {
  return family === 4 ? "ipv4" : "ipv6";
}

/**
 * Translates rule sets into direct entries: for each rule set and table, its
 * custom chains, then its rules chain by chain in final order.
 *
 * Priorities are explicit and increase along each chain, because firewalld
 * keeps the order of equal priorities only by accident (firewalld F3, docs/firewalld.md#f3).
 * Inserted rules get -k..-1 so that they sit above foreign direct rules of
 * the usual priority 0, like `-I`; appended rules get 0, 1, ... and are
 * loaded after foreign ones of the same priority, like `-A`.
 *
 * @example
 * ```ts
 * import { toDirectEntries } from "./direct_entries.ts";
 * const entries = toDirectEntries([{
 *   family: 6,
 *   tables: [{ name: "nat", chains: ["KUMA_MESH_OUTPUT"], rules: [
 *     { chain: "OUTPUT", insert: false, comment: "x", params: [] },
 *   ] }],
 * }], { ruleArgs: () => ["-p", "tcp", "-j", "KUMA_MESH_OUTPUT"] });
 * if (entries.length !== 2 || entries[1].ipv !== "ipv6") throw new Error();
 * ```
 */
export function toDirectEntries(
  ruleSets: readonly RuleSet[],
  options: ToDirectEntriesOptions = {},
): DirectEntry[] {
  const ruleArgs = options.ruleArgs ?? renderRuleArgs;
  const render = { verbose: options.verbose ?? false, comments: options.comments ?? true };
  const entries: DirectEntry[] = [];
  for (const ruleSet of ruleSets) {
    const ipv = ipvOf(ruleSet.family);
    for (const table of ruleSet.tables) {
      for (const chain of table.chains) {
        entries.push({ kind: "chain", ipv, table: table.name, chain });
      }
      for (const [chain, rules] of rulesByChain(table.rules)) {
        const inserted = rules.filter((r) => r.insert);
        const appended = rules.filter((r) => !r.insert);
        const ordered = [...inserted, ...appended];
        ordered.forEach((rule, i) => {
          entries.push({
            kind: "rule",
            ipv,
            table: table.name,
            chain,
            priority: i - inserted.length,
            args: ruleArgs(rule, render),
          });
        });
      }
    }
  }
  return entries;
}

/** Groups rules by chain, chains in order of first appearance, rules in generation order. */
function rulesByChain(rules: readonly Rule[]): Map<string, Rule[]> {
  const byChain = new Map<string, Rule[]>();
  for (const rule of rules) {
    const list = byChain.get(rule.chain) ?? [];
    list.push(rule);
    byChain.set(rule.chain, list);
  }
  return byChain;
}

/**
 * Whether an entry is ours: a chain named `KUMA_MESH_*`, a rule in such a
 * chain or a rule carrying our `kuma/mesh/transparent/proxy/...` comment, as
 * src/rules/ownership.ts defines it for the kernel too
 * (`kuma/mesh/transparent/proxyX` and `KUMA_MESHY` are foreign). A rule
 * that only jumps to one of our chains is someone else's: see
 * {@link foreignJumpsOf}. Passthroughs are never ours: we never write them.
 *
 * @example
 * ```ts
 * import { isOurEntry } from "./direct_entries.ts";
 * const foreign = { kind: "rule", ipv: "ipv4", table: "filter", chain: "INPUT",
 *   priority: 0, args: ["-j", "ACCEPT"] } as const;
 * if (isOurEntry({ ...foreign, args: [...foreign.args] })) throw new Error();
 * ```
 */
export function isOurEntry(entry: DirectEntry): boolean {
  switch (entry.kind) {
    case "chain":
      return isOurChain(entry.chain);
    case "rule":
      return isOurRule(entry.chain, entry.args);
    case "passthrough":
      return false;
  }
}

/**
 * The rules that are not ours but jump or go to one of our chains
 * (src/rules/ownership.ts `isForeignJump`). Install and uninstall refuse
 * while one exists: deleting it would lose an admin's rule, and leaving it
 * while our chain goes would make it invalid, and one invalid direct rule
 * puts firewalld in FAILED state at its next start or reload (firewalld F4,
 * docs/firewalld.md#f4).
 *
 * @example
 * ```ts
 * import { foreignJumpsOf } from "./direct_entries.ts";
 * const admin = { kind: "rule", ipv: "ipv4", table: "nat", chain: "PREROUTING",
 *   priority: -5, args: ["-p", "tcp", "--dport", "28", "-j", "KUMA_MESH_INBOUND"] } as const;
 * if (foreignJumpsOf([{ ...admin, args: [...admin.args] }]).length !== 1) throw new Error();
 * ```
 */
export function foreignJumpsOf(entries: readonly DirectEntry[]): DirectRule[] {
  return entries.filter((e): e is DirectRule =>
    e.kind === "rule" && isForeignJump(e.chain, e.args)
  );
}

/** Whether two entries are the same firewalld entry (same key and same arguments). */
export function sameEntry(a: DirectEntry, b: DirectEntry): boolean {
  if (a.kind !== b.kind || a.ipv !== b.ipv) return false;
  if (a.kind === "passthrough" && b.kind === "passthrough") return sameArgs(a.args, b.args);
  if (a.kind === "chain" && b.kind === "chain") return a.table === b.table && a.chain === b.chain;
  if (a.kind === "rule" && b.kind === "rule") {
    return a.table === b.table && a.chain === b.chain && a.priority === b.priority &&
      sameArgs(a.args, b.args);
  }
  return false;
}

function sameArgs(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** A one-line description, as `firewall-cmd --direct --get-all-rules` would print it. */
export function describeEntry(entry: DirectEntry): string {
  switch (entry.kind) {
    case "chain":
      return `chain ${entry.ipv} ${entry.table} ${entry.chain}`;
    case "rule":
      return `rule ${entry.ipv} ${entry.table} ${entry.chain} ${entry.priority} ${
        entry.args.join(" ")
      }`;
    case "passthrough":
      return `passthrough ${entry.ipv} ${entry.args.join(" ")}`;
  }
}
