/**
 * The nft script of an installation: both families' rule sets (built by
 * src/rules, the same ones the iptables backend renders) as one `inet`
 * table, applied with one `nft -f`, so the kernel switches from the old
 * table to the new one in a single transaction (nft(8): a file is one
 * transaction; on an error nothing of it is applied).
 *
 * @module
 */
import type { Config } from "../config/types.ts";
import type { Family, Rule, RuleSet, TableName } from "../rules/model.ts";
import { fullComment } from "../rules/comment.ts";
import { ruleStatement } from "./translate.ts";
import { NftBuildError } from "./errors.ts";
import { setElements } from "../net/address.ts";
import { chainHeadLine, setHeadLine } from "./lines.ts";

/** Our table: family and name. Nothing else of nftables is ever named by us. */
export const NFT_TABLE = { family: "inet", name: "kuma_mesh_transparent_proxy" } as const;

/** nftables keeps at most 128 bytes of a comment (NFTNL_UDATA_COMMENT_MAXLEN). */
export const NFT_MAX_COMMENT_BYTES = 128;

/** The comment of our table. */
export const NFT_TABLE_COMMENT = fullComment(
  "transparent proxy rules of kuma-tproxy, removed by kuma-tproxy uninstall",
);

/**
 * Hook priorities of our base chains. iptables (both backends) registers raw
 * at -300, mangle at -150 and nat at -100 (NF_IP_PRI_*, linux
 * include/uapi/linux/netfilter_ipv4.h); firewalld's nftables backend puts
 * its nat chains at dstnat + 10 (-90; firewalld F10, docs/firewalld.md#f10). A nat chain that redirects first
 * wins: the kernel runs no later nat chain for a connection once one has
 * set up its NAT (net/netfilter/nf_nat_core.c, nf_nat_inet_fn).
 *
 * - nat: after iptables and firewalld (-80), as kumactl appends its jumps
 *   after foreign rules; before both (-110) with
 *   `insertRedirectInsteadOfAppend`, as kumactl then inserts them.
 * - raw (-290): after iptables' raw rules, as kumactl appends its CT rules,
 *   and before conntrack (-200), which must see the zone.
 * - mangle (-140): after iptables' mangle, before nat.
 */
export const NFT_PRIORITY = { natAppend: -80, natInsert: -110, raw: -290, mangle: -140 } as const;

/** Where each table's built-in chains hook. */
const BASE_CHAINS: Record<TableName, { type: "filter" | "nat"; hooks: string[] }> = {
  raw: { type: "filter", hooks: ["PREROUTING", "OUTPUT"] },
  nat: { type: "nat", hooks: ["PREROUTING", "OUTPUT"] },
  mangle: { type: "filter", hooks: ["PREROUTING"] },
};

/**
 * The base chains a script can hold, by name: the type and hook we give
 * each, and every priority we may give it. Ownership (ownership.ts) takes
 * a base chain of our table as ours only when it is one of these.
 *
 * @example
 * ```ts
 * import { ourBaseChains } from "./script.ts";
 * if (ourBaseChains().get("nat_output")?.hook !== "output") throw new Error();
 * ```
 */
export function ourBaseChains(): Map<string, { type: string; hook: string; priorities: number[] }> {
  const out = new Map<string, { type: string; hook: string; priorities: number[] }>();
  for (
    const [table, { type, hooks }] of Object.entries(BASE_CHAINS) as [
      TableName,
      typeof BASE_CHAINS[TableName],
    ][]
  ) {
    const priorities = table === "nat"
      ? [NFT_PRIORITY.natAppend, NFT_PRIORITY.natInsert]
      : [table === "raw" ? NFT_PRIORITY.raw : NFT_PRIORITY.mangle];
    for (const hook of hooks) {
      out.set(baseChainName(table, hook), { type, hook: hook.toLowerCase(), priorities });
    }
  }
  return out;
}

/** What the script needs besides the rule sets. */
export interface NftScriptOptions {
  /** `redirect.inbound.insertRedirectInsteadOfAppend`: the nat prerouting priority. */
  insertInbound: boolean;
  /** `redirect.outbound.insertRedirectInsteadOfAppend`: the nat output priority. */
  insertOutbound: boolean;
}

interface NftSet {
  name: string;
  type: string;
  elements: string[];
}

interface NftRule {
  family: Family;
  statement: string;
  /** The full comment, as nft stores it. */
  comment: string;
}

interface NftChain {
  name: string;
  /** Set for base chains. */
  hook?: { type: string; hook: string; priority: number };
  rules: NftRule[];
}

/**
 * The comment of an nft rule: ours, cut at a word boundary to what nftables
 * keeps. The prefix and its `/` always survive, so ownership stays provable.
 *
 * @example
 * ```ts
 * import { nftComment } from "./script.ts";
 * const c = nftComment("x ".repeat(100));
 * if (c.length > 128 || !c.startsWith("kuma/mesh/transparent/proxy/x")) throw new Error(c);
 * ```
 */
export function nftComment(text: string): string {
  const full = fullComment(text);
  const bytes = new TextEncoder();
  if (bytes.encode(full).length <= NFT_MAX_COMMENT_BYTES) return full;
  let cut = full;
  while (bytes.encode(cut).length > NFT_MAX_COMMENT_BYTES) {
    const space = cut.lastIndexOf(" ");
    cut = space > full.indexOf("/") ? cut.slice(0, space) : cut.slice(0, -1);
  }
  return cut.trimEnd();
}

/** The base chain name of a table's built-in chain: `nat_prerouting`. */
export function baseChainName(table: TableName, builtin: string): string {
  return `${table}_${builtin.toLowerCase()}`;
}

/** Our chain's rules as nftables runs them: inserted ones first (kumactl's `-I n`), then appended. */
function chainOrder(rules: Rule[]): Rule[] {
  return [...rules.filter((r) => r.insert), ...rules.filter((r) => !r.insert)];
}

function setType(param: string, family: Family): string {
  if (param === "source" || param === "destination") {
    return family === 4 ? "ipv4_addr" : "ipv6_addr";
  }
  return "inet_service";
}

/** Rules of one chain and family as nft statements, consecutive list entries folded into set lookups. */
function chainRules(rules: Rule[], family: Family, sets: Map<string, NftSet>): NftRule[] {
  const out: NftRule[] = [];
  const ordered = chainOrder(rules);
  for (let i = 0; i < ordered.length; i++) {
    const rule = ordered[i];
    const list = rule.list;
    if (list === undefined) {
      out.push({
        family,
        statement: ruleStatement(rule, family),
        comment: nftComment(rule.comment),
      });
      continue;
    }
    let end = i;
    while (ordered[end + 1]?.list?.name === list.name) end++;
    const entries = ordered.slice(i, end + 1);
    const type = setType(list.param, family);
    const name = type === "inet_service" ? list.name : `${list.name}_ipv${family}`;
    const valueOf = (r: Rule) => r.params.find((p) => p.name === list.param)?.value;
    const values = entries.map(valueOf);
    if (values.includes(undefined)) {
      throw new NftBuildError(rule, `list entry without ${list.param}`);
    }
    const elements = type === "inet_service"
      ? [...new Set(values as string[])]
      : setElements(values as string[]);
    const known = sets.get(name);
    if (known !== undefined && known.elements.join() !== elements.join()) {
      throw new NftBuildError(rule, `set ${name} is defined twice with different elements`);
    }
    sets.set(name, { name, type, elements });
    const statement = ruleStatement(rule, family, { param: list.param, value: `@${name}` });
    for (const e of entries) {
      if (ruleStatement(e, family, { param: list.param, value: `@${name}` }) !== statement) {
        throw new NftBuildError(e, `list ${list.name} mixes rules of different shapes`);
      }
    }
    out.push({ family, statement, comment: nftComment(list.comment) });
    i = end;
  }
  return out;
}

function priorityOf(table: TableName, hook: string, options: NftScriptOptions): number {
  if (table === "raw") return NFT_PRIORITY.raw;
  if (table === "mangle") return NFT_PRIORITY.mangle;
  const insert = hook === "PREROUTING" ? options.insertInbound : options.insertOutbound;
  return insert ? NFT_PRIORITY.natInsert : NFT_PRIORITY.natAppend;
}

/** The table's sets and chains, in a fixed order: raw, nat, mangle; base chains before custom ones. */
function collect(ruleSets: RuleSet[], options: NftScriptOptions) {
  const sets = new Map<string, NftSet>();
  const chains = new Map<string, NftChain>();
  const chainFor = (name: string, hook?: NftChain["hook"]) => {
    let c = chains.get(name);
    if (c === undefined) chains.set(name, c = { name, hook, rules: [] });
    return c;
  };
  for (const tableName of ["raw", "nat", "mangle"] as const) {
    const { type, hooks } = BASE_CHAINS[tableName];
    for (const ruleSet of ruleSets) {
      const table = ruleSet.tables.find((t) => t.name === tableName);
      if (table === undefined) continue;
      for (const builtin of hooks) {
        const rules = table.rules.filter((r) => r.chain === builtin);
        if (rules.length === 0) continue;
        const hook = {
          type,
          hook: builtin.toLowerCase(),
          priority: priorityOf(tableName, builtin, options),
        };
        chainFor(baseChainName(tableName, builtin), hook).rules.push(
          ...chainRules(rules, ruleSet.family, sets),
        );
      }
      for (const custom of table.chains) {
        const rules = table.rules.filter((r) => r.chain === custom);
        chainFor(custom).rules.push(...chainRules(rules, ruleSet.family, sets));
      }
      const unknown = table.rules.find((r) =>
        !hooks.includes(r.chain) && !table.chains.includes(r.chain)
      );
      if (unknown) throw new NftBuildError(unknown, `chain ${unknown.chain} has no nft base chain`);
    }
  }
  return { sets: [...sets.values()], chains: [...chains.values()] };
}

/**
 * The table definition, laid out as `nft list table` prints it (tabs, one
 * rule a line), so the dry run and the README show what the kernel will list.
 *
 * @example
 * ```ts
 * import { renderNftTable } from "./script.ts";
 * const text = renderNftTable([], { insertInbound: false, insertOutbound: false });
 * if (!text.startsWith("table inet kuma_mesh_transparent_proxy {\n\tcomment")) throw new Error(text);
 * ```
 */
export function renderNftTable(ruleSets: RuleSet[], options: NftScriptOptions): string {
  const { sets, chains } = collect(ruleSets, options);
  const lines = [
    `table ${NFT_TABLE.family} ${NFT_TABLE.name} {`,
    `\tcomment "${NFT_TABLE_COMMENT}"`,
  ];
  for (const set of sets) {
    lines.push(
      `\tset ${set.name} {`,
      `\t\ttype ${set.type}`,
      // setElements leaves no overlap, so no auto-merge: nft then lists the
      // elements exactly as written, which is what status compares.
      "\t\tflags interval",
      `\t\telements = { ${set.elements.join(", ")} }`,
      "\t}",
      "",
    );
  }
  for (const chain of chains) {
    lines.push(`\tchain ${chain.name} {`);
    if (chain.hook) {
      const { type, hook, priority } = chain.hook;
      lines.push(`\t\ttype ${type} hook ${hook} priority ${priority}; policy accept;`);
    }
    lines.push(...chain.rules.map((r) => `\t\t${r.statement} comment "${r.comment}"`), "\t}", "");
  }
  if (lines.at(-1) === "") lines.pop();
  lines.push("}");
  return lines.join("\n") + "\n";
}

/**
 * What `status` expects to find in our table, per family, in the same
 * comparable form as `liveLines` (state.ts) gives for the kernel's JSON
 * (lines.ts): per chain its declaration (base chains: type, hook, priority,
 * policy accept) and its rules' comments in order, per set its type and
 * sorted elements; the table has no flags and nothing else. Port sets
 * belong to both families.
 *
 * @example
 * ```ts
 * import { expectedLines } from "./script.ts";
 * if (expectedLines([], { insertInbound: false, insertOutbound: false }).size !== 0) throw new Error();
 * ```
 */
export function expectedLines(
  ruleSets: RuleSet[],
  options: NftScriptOptions,
): Map<Family, Map<string, string[]>> {
  const { sets, chains } = collect(ruleSets, options);
  const out = new Map<Family, Map<string, string[]>>();
  for (const { family } of ruleSets) {
    const lines = new Map<string, string[]>();
    for (const chain of chains) {
      const rules = chain.rules.filter((r) => r.family === family).map((r) => r.comment);
      if (rules.length === 0) continue;
      const head = chain.hook
        ? [chainHeadLine({ ...chain.hook, prio: chain.hook.priority, policy: "accept" })]
        : [];
      lines.set(`chain ${chain.name}`, [...head, ...rules]);
    }
    for (const set of sets) {
      if ((setFamily(set.name) ?? family) !== family) continue;
      lines.set(`set ${set.name}`, [setHeadLine(set.type), ...[...set.elements].sort()]);
    }
    out.set(family, lines);
  }
  return out;
}

/**
 * How many rules and chains our table holds for each family, counted as
 * `nft list table` shows them: exclusion lists folded into one set lookup
 * are one rule, and the base chains count like the custom ones.
 *
 * @example
 * ```ts
 * import { countNftRules } from "./script.ts";
 * if (countNftRules([], { insertInbound: false, insertOutbound: false }).size !== 0) throw new Error();
 * ```
 */
export function countNftRules(
  ruleSets: RuleSet[],
  options: NftScriptOptions,
): Map<Family, { rules: number; chains: number }> {
  const { chains } = collect(ruleSets, options);
  const out = new Map<Family, { rules: number; chains: number }>();
  for (const { family } of ruleSets) {
    const perChain = chains.map((c) => c.rules.filter((r) => r.family === family).length);
    out.set(family, {
      rules: perChain.reduce((a, b) => a + b, 0),
      chains: perChain.filter((n) => n > 0).length,
    });
  }
  return out;
}

/** The family of a set by its name (`_ipv4`/`_ipv6`); undefined for port sets, which serve both. */
export function setFamily(name: string): Family | undefined {
  return name.endsWith("_ipv4") ? 4 : name.endsWith("_ipv6") ? 6 : undefined;
}

/**
 * The whole `nft -f` input of an install: make sure the table exists, delete
 * it, define it anew. nft runs a file as one transaction, so the host has
 * the old table or the new one, never neither and never half of one.
 *
 * @example
 * ```ts
 * import { renderNftScript } from "./script.ts";
 * const s = renderNftScript([], { insertInbound: false, insertOutbound: false });
 * if (!s.includes("\ndelete table inet kuma_mesh_transparent_proxy\n")) throw new Error(s);
 * ```
 */
export function renderNftScript(ruleSets: RuleSet[], options: NftScriptOptions): string {
  const { family, name } = NFT_TABLE;
  return [
    "# kuma-tproxy: the transparent proxy rules of both IP families, applied as one",
    "# transaction by `nft -f`: the first two commands remove any earlier version",
    "# of the table (creating it first, so the delete cannot fail), then it is defined.",
    `table ${family} ${name} {}`,
    `delete table ${family} ${name}`,
    renderNftTable(ruleSets, options),
  ].join("\n");
}

/**
 * The `nft -f` input that removes our table, and nothing else.
 *
 * @example
 * ```ts
 * import { renderNftDelete } from "./script.ts";
 * if (renderNftDelete() !== "delete table inet kuma_mesh_transparent_proxy\n") throw new Error();
 * ```
 */
export function renderNftDelete(): string {
  return `delete table ${NFT_TABLE.family} ${NFT_TABLE.name}\n`;
}

/**
 * The script options a config asks for.
 *
 * @example
 * ```ts
 * import { nftOptionsFor } from "./script.ts";
 * import { defaultConfig } from "../config/defaults.ts";
 * if (nftOptionsFor(defaultConfig()).insertInbound) throw new Error();
 * ```
 */
export function nftOptionsFor(config: Config): NftScriptOptions {
  return {
    insertInbound: config.redirect.inbound.insertRedirectInsteadOfAppend,
    insertOutbound: config.redirect.outbound.insertRedirectInsteadOfAppend,
  };
}
