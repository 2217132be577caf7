/**
 * What in an nft table is ours, on top of the one comment predicate that
 * every layer shares (src/rules/ownership.ts). Ours is what a script of
 * ours writes (script.ts), object by object:
 *
 * - the table: our family and name, and our comment where nft's JSON reports
 *   table comments (nft 1.0.6 does not);
 * - a rule: it carries our comment, with its `/` boundary;
 * - a chain: a regular chain named `KUMA_MESH_` + something (the names
 *   src/rules gives its chains), or a base chain with one of our base chain
 *   names and the type, hook and a priority we give it (`ourBaseChains`);
 * - a set: one of the names we give sets, of the type we give it;
 * - nothing else: we write no maps, counters, quotas, flowtables or other
 *   objects.
 *
 * Anything else in our table is someone else's: install and uninstall
 * leave the whole table alone and name it, and status reports it.
 *
 * @module
 */
import { isOurComment as isOurRuleComment } from "../rules/ownership.ts";
import { NFT_TABLE, ourBaseChains } from "./script.ts";
import type { NftChainState, NftSetState, NftTableState } from "./state.ts";

/**
 * Whether an nft comment (absent on rules without one) is ours: the shared
 * predicate, `kuma/mesh/transparent/proxy/` with its `/` boundary.
 *
 * @example
 * ```ts
 * import { isOurComment } from "./ownership.ts";
 * if (!isOurComment("kuma/mesh/transparent/proxy/redirect")) throw new Error();
 * if (isOurComment("kuma/mesh/transparent/proxyX admin") || isOurComment(undefined)) throw new Error();
 * ```
 */
export function isOurComment(comment: string | undefined): boolean {
  return comment !== undefined && isOurRuleComment(comment);
}

const TABLE = `${NFT_TABLE.family} ${NFT_TABLE.name}`;

/** Our chain names in src/rules (context.ts `chainNames`): `KUMA_MESH_` and at least one character. */
const OUR_CHAIN = /^KUMA_MESH_./;

/**
 * Set names script.ts writes: a list's name (src/rules nat_chains.ts,
 * nat_table.ts), with `_ipv4`/`_ipv6` for address lists; and their types.
 */
const OUR_SETS: [RegExp, (m: RegExpMatchArray) => string][] = [
  [/^(inbound|outbound)_(include|exclude)_ports$/, () => "inet_service"],
  [/^(inbound|outbound)_exclude_ips_ipv([46])$/, (m) => m[2] === "4" ? "ipv4_addr" : "ipv6_addr"],
];

/** Whether a chain of our table is one a script of ours writes. */
export function isOurChain(chain: NftChainState): boolean {
  if (chain.hook === undefined) return OUR_CHAIN.test(chain.name);
  const base = ourBaseChains().get(chain.name);
  return base !== undefined && base.type === chain.type && base.hook === chain.hook &&
    chain.prio !== undefined && base.priorities.includes(chain.prio);
}

/** Whether a set of our table is one a script of ours writes. */
export function isOurSet(set: NftSetState): boolean {
  for (const [pattern, type] of OUR_SETS) {
    const m = set.name.match(pattern);
    if (m) return set.type === type(m);
  }
  return false;
}

/** Something in our table that we did not write. */
export interface ForeignObject {
  /** How messages name it: `chain admin (no rules)`, `set blocked`, `rule handle 32 in nat_output`. */
  name: string;
  /** The nft command that deletes it from our table. */
  remove: string;
}

function chainHead(c: NftChainState): string {
  return c.hook === undefined
    ? ""
    : `type ${c.type} hook ${c.hook} priority ${c.prio}${c.policy ? ` policy ${c.policy}` : ""}`;
}

/**
 * Every object of the table we did not write, in the order nft listed
 * them: foreign chains (with their rules), then foreign rules in our
 * chains, foreign sets and other objects.
 *
 * @example
 * ```ts
 * import { foreignObjects } from "./ownership.ts";
 * const table = { family: "inet", name: "kuma_mesh_transparent_proxy", handle: 1, sets: [],
 *   chains: [{ name: "KUMA_MESH_OUTBOUND" }, { name: "admin" }],
 *   rules: [{ chain: "KUMA_MESH_OUTBOUND", handle: 7 }] };
 * const names = foreignObjects(table).map((o) => o.name);
 * if (names.join() !== "chain admin (no rules),rule handle 7 in KUMA_MESH_OUTBOUND (no comment)") throw new Error(names.join());
 * ```
 */
export function foreignObjects(table: NftTableState): ForeignObject[] {
  const out: ForeignObject[] = [];
  const foreignChains = new Set<string>();
  for (const c of table.chains) {
    if (isOurChain(c)) continue;
    foreignChains.add(c.name);
    const rules = table.rules.filter((r) => r.chain === c.name).length;
    const head = chainHead(c);
    out.push({
      name: `chain ${c.name} (${
        [head, rules === 0 ? "no rules" : `${rules} rules`].filter((p) => p)
          .join(", ")
      })`,
      remove: `nft flush chain ${TABLE} ${c.name}; nft delete chain ${TABLE} ${c.name}`,
    });
  }
  for (const r of table.rules) {
    if (isOurComment(r.comment) || foreignChains.has(r.chain)) continue;
    const handle = r.handle === undefined ? "" : ` handle ${r.handle}`;
    out.push({
      name: `rule${handle} in ${r.chain} (${
        r.comment === undefined ? "no comment" : `comment ${JSON.stringify(r.comment)}`
      })`,
      remove: `nft delete rule ${TABLE} ${r.chain}${handle}`,
    });
  }
  for (const s of table.sets) {
    if (isOurSet(s)) continue;
    out.push({
      name: `set ${s.name} (type ${s.type})`,
      remove: `nft delete set ${TABLE} ${s.name}`,
    });
  }
  for (const o of table.others ?? []) {
    out.push({ name: `${o.kind} ${o.name}`, remove: `nft delete ${o.kind} ${TABLE} ${o.name}` });
  }
  return out;
}

/**
 * Why the table as a whole is someone else's (another family or name, a
 * comment that is not ours), or undefined. Such a table is not counted by
 * status and never changed.
 *
 * @example
 * ```ts
 * import { tableNotOurs } from "./ownership.ts";
 * const table = { family: "inet", name: "kuma_mesh_transparent_proxy", handle: 1, chains: [], sets: [], rules: [] };
 * if (tableNotOurs(table) !== undefined) throw new Error();
 * if (tableNotOurs({ ...table, comment: "admin" }) === undefined) throw new Error();
 * ```
 */
export function tableNotOurs(table: NftTableState): string | undefined {
  if (table.family !== NFT_TABLE.family || table.name !== NFT_TABLE.name) {
    return "it is not named like ours";
  }
  if (table.comment !== undefined && !isOurComment(table.comment)) {
    return `its comment ${JSON.stringify(table.comment)} is not ours`;
  }
  return undefined;
}

/**
 * Why install and uninstall must leave a table alone, or undefined when it
 * is ours and holds nothing else: {@linkcode tableNotOurs}, no rule of ours
 * (nothing proves the table ours), or {@linkcode foreignObjects}, each
 * named.
 *
 * @example
 * ```ts
 * import { notOursBecause } from "./ownership.ts";
 * const table = { family: "inet", name: "kuma_mesh_transparent_proxy", handle: 1, chains: [], sets: [],
 *   rules: [{ chain: "nat_output", comment: "kuma/mesh/transparent/proxy/x" }] };
 * if (notOursBecause(table) !== undefined) throw new Error();
 * if (notOursBecause({ ...table, rules: [] }) === undefined) throw new Error();
 * ```
 */
export function notOursBecause(table: NftTableState): string | undefined {
  const whole = tableNotOurs(table);
  if (whole) return whole;
  const reasons: string[] = [];
  if (!table.rules.some((r) => isOurComment(r.comment))) {
    reasons.push("it has no rules carrying our comment");
  }
  const foreign = foreignObjects(table);
  const ourChains = new Set(table.chains.filter(isOurChain).map((c) => c.name));
  const rules = table.rules.filter((r) => ourChains.has(r.chain) && !isOurComment(r.comment));
  if (rules.length > 0) {
    reasons.push(
      `${rules.length} of its rules (in ${
        [...new Set(rules.map((r) => r.chain))].join(", ")
      }) do not carry our comment`,
    );
  }
  if (foreign.length > 0) {
    reasons.push(
      `it holds what kuma-tproxy did not write: ${foreign.map((o) => o.name).join(", ")}`,
    );
  }
  return reasons.length > 0 ? reasons.join("; ") : undefined;
}
