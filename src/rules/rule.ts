/**
 * Rule constructors. Both validate the comment through `fullComment`, so a
 * rule whose comment could not be written fails when it is built, not when
 * iptables or firewalld reads it.
 *
 * @module
 */
import { fullComment } from "./comment.ts";
import type { Param, Rule, RuleList } from "./model.ts";

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

/**
 * The same rule, marked as one entry of `list` (see {@link RuleList}).
 *
 * @example
 * ```ts
 * import { appendRule, inList } from "./rule.ts";
 * import { jump, source } from "./params.ts";
 * const list = { name: "inbound_exclude_ips", param: "source", comment: "skip excluded sources" };
 * const r = inList(appendRule("KUMA_MESH_INBOUND", "skip", [source("10.0.0.1"), jump("RETURN")]), list);
 * if (r.list?.param !== "source") throw new Error();
 * ```
 */
export function inList(rule: Rule, list: RuleList): Rule {
  fullComment(list.comment);
  return { ...rule, list };
}
