/**
 * What makes an nft table ours, on top of the one comment predicate that
 * every layer shares (src/rules/ownership.ts).
 *
 * @module
 */
import { isOurComment as isOurRuleComment } from "../rules/ownership.ts";
import { NFT_TABLE } from "./script.ts";
import type { NftTableState } from "./state.ts";

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

/**
 * Why a table is not ours, or undefined when it is. Ours means: our family
 * and name, our comment on the table (where nft's JSON reports table comments;
 * nft 1.0.6 does not), and our comment on every one of its rules, with at
 * least one rule. Anything else is somebody's, however it is named.
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
  if (table.family !== NFT_TABLE.family || table.name !== NFT_TABLE.name) {
    return "it is not named like ours";
  }
  if (table.comment !== undefined && !isOurComment(table.comment)) {
    return `its comment ${JSON.stringify(table.comment)} is not ours`;
  }
  if (table.rules.length === 0) return "it has no rules carrying our comment";
  const foreign = table.rules.filter((r) => !isOurComment(r.comment));
  if (foreign.length > 0) {
    return `${foreign.length} of its rules (in ${
      [...new Set(foreign.map((r) => r.chain))].join(", ")
    }) do not carry our comment`;
  }
  return undefined;
}
