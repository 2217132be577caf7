/**
 * Rule constructors. Both validate the comment through `fullComment`, so a
 * rule whose comment could not be written fails when it is built, not when
 * iptables or firewalld reads it.
 *
 * @module
 */
import { fullComment } from "./comment.ts";
import type { Param, Rule } from "./model.ts";

/**
 * A rule appended to `chain` (`-A`): it lands after any foreign rules.
 *
 * @example
 * ```ts
 * import { appendRule } from "./rule.ts";
 * import { jump } from "./params.ts";
 * const r = appendRule("KUMA_MESH_OUTBOUND", "return", [jump("RETURN")]);
 * if (r.insert || r.params.length !== 1) throw new Error();
 * ```
 */
export function appendRule(chain: string, comment: string, params: Param[][]): Rule {
  fullComment(comment);
  return { chain, insert: false, comment, params: params.flat() };
}

/**
 * A rule inserted into `chain` (`-I chain n`): inserted rules land at the top
 * of the chain in generation order, ahead of foreign rules.
 *
 * @example
 * ```ts
 * import { insertRule } from "./rule.ts";
 * import { jump } from "./params.ts";
 * if (!insertRule("OUTPUT", "return", [jump("RETURN")]).insert) throw new Error();
 * ```
 */
export function insertRule(chain: string, comment: string, params: Param[][]): Rule {
  fullComment(comment);
  return { chain, insert: true, comment, params: params.flat() };
}
