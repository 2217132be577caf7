/**
 * nftables state from `nft -j` (libnftables-json(5)), never from its text
 * output: the list of tables, and the chains, sets and rules of one table.
 *
 * @module
 */
import { NftStateError } from "./errors.ts";

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
  /** Number of elements after nft's own merging. */
  elements: number;
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
        elements: Array.isArray(o.elem) ? o.elem.length : 0,
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
