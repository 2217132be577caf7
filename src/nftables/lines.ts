/**
 * The comparable form status uses for our table, shared by both sides:
 * `expectedLines` (script.ts, from the plan) and `liveLines` (state.ts,
 * from `nft -j`). Per family, a map from `chain NAME`, `set NAME`, `table`
 * or `KIND NAME` to lines; status diffs the two maps line by line.
 *
 * @module
 */

/** The first line of a base chain: everything of its declaration that decides what traffic it sees. */
export function chainHeadLine(
  c: { type?: string; hook?: string; prio?: number; policy?: string },
): string {
  return `type ${c.type} hook ${c.hook} priority ${c.prio} policy ${c.policy ?? "accept"}`;
}

/** The first line of a set, before its sorted elements. */
export function setHeadLine(type: string | undefined): string {
  return `type ${type}`;
}

/** A chain's only line when it holds no rule (we never write one). */
export const NO_RULES = "(no rules)";

/** An object we never write (map, counter, flowtable, ...): its one line. */
export const NOT_OURS = "not written by kuma-tproxy";

/** How every {@linkcode foreignRuleLine} starts. */
export const NOT_OURS_RULE = "not ours: rule";

/** A rule without our comment: named by its handle, never mistaken for one of ours. */
export function foreignRuleLine(r: { handle?: number; comment?: string }): string {
  const handle = r.handle === undefined ? "" : ` handle ${r.handle}`;
  return `${NOT_OURS_RULE}${handle} ${
    r.comment === undefined ? "(no comment)" : `comment ${JSON.stringify(r.comment)}`
  }`;
}
