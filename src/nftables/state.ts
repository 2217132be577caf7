/**
 * nftables state from `nft -j` (libnftables-json(5)), never from its text
 * output: the list of tables, and the chains, sets and rules of one table.
 *
 * @module
 */
import { NftStateError } from "./errors.ts";
import { rangeAsPrefix } from "../net/ip.ts";
import { setFamily } from "./script.ts";
import { isOurComment } from "./ownership.ts";
import { chainHeadLine, foreignRuleLine, NO_RULES, NOT_OURS, setHeadLine } from "./lines.ts";

/** One rule as status and ownership need it. */
export interface NftRuleState {
  chain: string;
  /** The kernel's handle: how an operator names the rule (`nft delete rule … handle N`). */
  handle?: number;
  comment?: string;
  /** The rule's expressions as nft reported them (compared, never interpreted). */
  expr?: unknown[];
}

export interface NftChainState {
  name: string;
  hook?: string;
  prio?: number;
  type?: string;
  /** A base chain's policy (`accept`, `drop`). */
  policy?: string;
}

export interface NftSetState {
  name: string;
  type?: string;
  /** Elements as nft writes them: `10.0.0.0/8`, `1.2.3.4`, `80`, `1000-2000`. */
  elements: string[];
}

/** One table with what is in it. */
export interface NftTableState {
  family: string;
  name: string;
  handle: number;
  /** Only where nft's JSON reports table comments (not in nft 1.0.6). */
  comment?: string;
  /**
   * The table's flags (`dormant`, `owner`, ...); absent when it has none. nft
   * 1.0.6 prints a garbled value for them in JSON (a freed string), so a
   * value that is not a flag name reads as {@linkcode UNREADABLE_FLAGS}:
   * only the key's presence is trusted.
   */
  flags?: string[];
  chains: NftChainState[];
  sets: NftSetState[];
  rules: NftRuleState[];
  /**
   * Every other object nft listed in the table (`map`, `counter`, `quota`,
   * `flowtable`, `ct helper`, ...): kuma-tproxy writes none of them.
   */
  others?: { kind: string; name: string }[];
}

/** What {@linkcode NftTableState.flags} holds when nft printed no flag names. */
export const UNREADABLE_FLAGS = "(set, but nft printed no flag names)";

/** Table flags of libnftables-json(5), nf_tables.h NFT_TABLE_F_*. */
const TABLE_FLAGS = new Set(["dormant", "owner", "persist"]);

function tableFlags(v: unknown): string[] | undefined {
  if (v === undefined) return undefined;
  const names = Array.isArray(v) ? v : [v];
  return names.every((n) => typeof n === "string" && TABLE_FLAGS.has(n))
    ? names as string[]
    : [UNREADABLE_FLAGS];
}

type JsonObject = Record<string, unknown>;

function items(json: string): JsonObject[] {
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch (e) {
    throw new NftStateError(`nft -j printed no JSON: ${(e as Error).message}`);
  }
  const list = (doc as { nftables?: unknown })?.nftables;
  if (!Array.isArray(list)) throw new NftStateError("nft -j output has no nftables array");
  return list as JsonObject[];
}

const str = (v: unknown) => (typeof v === "string" ? v : undefined);

/** A set element of libnftables-json ("1.2.3.4", 80, {prefix}, {range}) in nft's own spelling. */
function elementText(e: unknown): string {
  if (typeof e === "string" || typeof e === "number") return String(e);
  const o = e as JsonObject;
  if (o?.prefix) {
    const p = o.prefix as JsonObject;
    return `${p.addr}/${p.len}`;
  }
  if (Array.isArray(o?.range)) {
    const [first, last] = o.range.map(elementText);
    return rangeAsPrefix(first, last) ?? `${first}-${last}`;
  }
  if (o?.elem) return elementText((o.elem as JsonObject).val);
  return JSON.stringify(e);
}

/**
 * The family a rule of an inet table is limited to, from its matches:
 * `meta nfproto ipv4|ipv6` or an `ip`/`ip6` payload; undefined if none.
 */
export function ruleFamily(rule: NftRuleState): 4 | 6 | undefined {
  for (const e of rule.expr ?? []) {
    const m = (e as JsonObject).match as JsonObject | undefined;
    const left = m?.left as JsonObject | undefined;
    if ((left?.meta as JsonObject | undefined)?.key === "nfproto") {
      return m!.right === "ipv4" ? 4 : m!.right === "ipv6" ? 6 : undefined;
    }
    const protocol = (left?.payload as JsonObject | undefined)?.protocol;
    if (protocol === "ip") return 4;
    if (protocol === "ip6") return 6;
  }
  return undefined;
}

/** A set's family from its type, else its name (port sets serve both families: undefined). */
function setFamilyOf(set: NftSetState): 4 | 6 | undefined {
  if (set.type === "ipv4_addr") return 4;
  if (set.type === "ipv6_addr") return 6;
  return setFamily(set.name);
}

/**
 * Our table in the comparable form of `expectedLines` (script.ts, lines.ts),
 * per family: per chain its declaration (base chains: type, hook, priority,
 * policy) and its rules' comments in order, a rule without our comment by
 * its handle; per set its type and sorted elements; the table's flags; any
 * other object. A rule of no family counts for both. What belongs to no
 * family (the table's flags, a chain without rules, a port set, another
 * object) counts in every family that has rules or address sets here, or,
 * when none has, in `families` (the ones the config installs).
 *
 * @example
 * ```ts
 * import { liveLines } from "./state.ts";
 * const lines = liveLines({ family: "inet", name: "t", handle: 1, sets: [],
 *   chains: [{ name: "c", type: "nat", hook: "output", prio: -80, policy: "accept" }],
 *   rules: [{ chain: "c", comment: "kuma/mesh/transparent/proxy/x", expr: [{ match: { left: { meta: { key: "nfproto" } }, right: "ipv6" } }] }] });
 * if (lines.get(6)?.get("chain c")?.join() !== "type nat hook output priority -80 policy accept,kuma/mesh/transparent/proxy/x") throw new Error();
 * if (lines.has(4)) throw new Error();
 * ```
 */
export function liveLines(
  table: NftTableState,
  families: readonly (4 | 6)[] = [4, 6],
): Map<4 | 6, Map<string, string[]>> {
  const perFamily = new Map<4 | 6, Map<string, string[]>>();
  const neutral = new Map<string, string[]>();
  for (const family of [4, 6] as const) {
    const lines = new Map<string, string[]>();
    for (const chain of table.chains) {
      const rules = table.rules
        .filter((r) => r.chain === chain.name && (ruleFamily(r) ?? family) === family)
        .map((r) => isOurComment(r.comment) ? r.comment! : foreignRuleLine(r));
      if (rules.length === 0) continue;
      const head = chain.hook ? [chainHeadLine(chain)] : [];
      lines.set(`chain ${chain.name}`, [...head, ...rules]);
    }
    for (const set of table.sets) {
      if (setFamilyOf(set) === family) {
        lines.set(`set ${set.name}`, [setHeadLine(set.type), ...[...set.elements].sort()]);
      }
    }
    if (lines.size > 0) perFamily.set(family, lines);
  }
  if (table.flags) neutral.set("table", table.flags.map((f) => `flags ${f}`));
  for (const chain of table.chains) {
    if (table.rules.some((r) => r.chain === chain.name)) continue;
    neutral.set(`chain ${chain.name}`, [...(chain.hook ? [chainHeadLine(chain)] : []), NO_RULES]);
  }
  for (const set of table.sets) {
    if (setFamilyOf(set) !== undefined) continue;
    neutral.set(`set ${set.name}`, [setHeadLine(set.type), ...[...set.elements].sort()]);
  }
  for (const o of table.others ?? []) neutral.set(`${o.kind} ${o.name}`, [NOT_OURS]);
  if (neutral.size > 0) {
    const targets = perFamily.size > 0 ? [...perFamily.keys()] : families;
    for (const family of targets) {
      const lines = perFamily.get(family) ?? new Map<string, string[]>();
      for (const [key, value] of neutral) lines.set(key, value);
      perFamily.set(family, lines);
    }
  }
  return new Map([...perFamily].sort(([a], [b]) => a - b));
}

/**
 * Tables, chains, sets and rules of an `nft -j list ruleset|tables|table`
 * answer, grouped by table, in the order nft listed them.
 *
 * @example
 * ```ts
 * import { parseNftJson } from "./state.ts";
 * const json = JSON.stringify({ nftables: [
 *   { metainfo: { json_schema_version: 1 } },
 *   { table: { family: "inet", name: "t", handle: 1 } },
 *   { rule: { family: "inet", table: "t", chain: "c", handle: 2, comment: "x", expr: [] } },
 * ] });
 * const [t] = parseNftJson(json);
 * if (t.rules[0].comment !== "x") throw new Error();
 * ```
 */
export function parseNftJson(json: string): NftTableState[] {
  const tables = new Map<string, NftTableState>();
  const tableOf = (o: JsonObject) => {
    const key = `${str(o.family)} ${str(o.table) ?? str(o.name)}`;
    const t = tables.get(key);
    if (t === undefined) throw new NftStateError(`nft -j listed ${key} before its table`);
    return t;
  };
  for (const item of items(json)) {
    if (item.table) {
      const o = item.table as JsonObject;
      const t: NftTableState = {
        family: str(o.family) ?? "",
        name: str(o.name) ?? "",
        handle: Number(o.handle),
        chains: [],
        sets: [],
        rules: [],
      };
      if (str(o.comment) !== undefined) t.comment = str(o.comment);
      const flags = tableFlags(o.flags);
      if (flags) t.flags = flags;
      tables.set(`${t.family} ${t.name}`, t);
    } else if (item.chain) {
      const o = item.chain as JsonObject;
      tableOf(o).chains.push({
        name: str(o.name) ?? "",
        hook: str(o.hook),
        type: str(o.type),
        prio: typeof o.prio === "number" ? o.prio : undefined,
        policy: str(o.policy),
      });
    } else if (item.set) {
      const o = item.set as JsonObject;
      tableOf(o).sets.push({
        name: str(o.name) ?? "",
        type: str(o.type),
        elements: Array.isArray(o.elem) ? o.elem.map(elementText) : [],
      });
    } else if (item.rule) {
      const o = item.rule as JsonObject;
      tableOf(o).rules.push({
        chain: str(o.chain) ?? "",
        handle: typeof o.handle === "number" ? o.handle : undefined,
        comment: str(o.comment),
        expr: Array.isArray(o.expr) ? o.expr : undefined,
      });
    } else {
      // map, counter, quota, flowtable, "ct helper", ...: named objects of a table.
      const [kind] = Object.keys(item);
      const o = item[kind] as JsonObject | undefined;
      if (kind === "metainfo" || typeof o !== "object" || o === null || o.table === undefined) {
        continue;
      }
      const t = tableOf(o);
      (t.others ??= []).push({ kind, name: str(o.name) ?? "" });
    }
  }
  return [...tables.values()];
}
