/**
 * nftables state from `nft -j` (libnftables-json(5)), never from its text
 * output: the list of tables, and the chains, sets and rules of one table.
 *
 * @module
 */
import { NftStateError } from "./errors.ts";
import { setFamily } from "./script.ts";

/** One rule as status and ownership need it. */
export interface NftRuleState {
  chain: string;
  comment?: string;
  /** The rule's expressions as nft reported them (compared, never interpreted). */
  expr?: unknown[];
}

export interface NftChainState {
  name: string;
  hook?: string;
  prio?: number;
  type?: string;
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
  chains: NftChainState[];
  sets: NftSetState[];
  rules: NftRuleState[];
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
  if (Array.isArray(o?.range)) return o.range.map(elementText).join("-");
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

/**
 * Our table in the comparable form of `expectedLines` (script.ts), per
 * family: per chain its hook and priority and its rules' comments, per set
 * its sorted elements. A rule of no family counts for both.
 *
 * @example
 * ```ts
 * import { liveLines } from "./state.ts";
 * const lines = liveLines({ family: "inet", name: "t", handle: 1, sets: [],
 *   chains: [{ name: "c", hook: "output", prio: -80 }],
 *   rules: [{ chain: "c", comment: "x", expr: [{ match: { left: { meta: { key: "nfproto" } }, right: "ipv6" } }] }] });
 * if (lines.get(6)?.get("chain c")?.join() !== "hook output priority -80,x") throw new Error();
 * ```
 */
export function liveLines(table: NftTableState): Map<4 | 6, Map<string, string[]>> {
  const out = new Map<4 | 6, Map<string, string[]>>();
  for (const family of [4, 6] as const) {
    const lines = new Map<string, string[]>();
    for (const chain of table.chains) {
      const rules = table.rules
        .filter((r) => r.chain === chain.name && (ruleFamily(r) ?? family) === family)
        .map((r) => r.comment ?? "(no comment)");
      if (rules.length === 0) continue;
      const head = chain.hook ? [`hook ${chain.hook} priority ${chain.prio}`] : [];
      lines.set(`chain ${chain.name}`, [...head, ...rules]);
    }
    // Port sets serve both families, so they count only where rules are.
    if (lines.size === 0) continue;
    for (const set of table.sets) {
      if ((setFamily(set.name) ?? family) === family) {
        lines.set(`set ${set.name}`, [...set.elements].sort());
      }
    }
    out.set(family, lines);
  }
  return out;
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
      tables.set(`${t.family} ${t.name}`, t);
    } else if (item.chain) {
      const o = item.chain as JsonObject;
      tableOf(o).chains.push({
        name: str(o.name) ?? "",
        hook: str(o.hook),
        type: str(o.type),
        prio: typeof o.prio === "number" ? o.prio : undefined,
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
        comment: str(o.comment),
        expr: Array.isArray(o.expr) ? o.expr : undefined,
      });
    }
  }
  return [...tables.values()];
}
