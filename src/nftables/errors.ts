/**
 * Typed errors of the nftables backend.
 *
 * @module
 */
import type { Rule } from "../rules/model.ts";

/** A rule of the model that has no nft spelling: a bug in a builder, never a user error. */
export class NftBuildError extends Error {
  readonly code = "nft_untranslatable";
  /** The rule that could not be translated. */
  readonly rule: Rule;

  /**
   * @example
   * ```ts
   * import { NftBuildError } from "./errors.ts";
   * const e = new NftBuildError({ chain: "X", insert: false, comment: "c", params: [] }, "why");
   * if (e.code !== "nft_untranslatable") throw new Error();
   * ```
   */
  constructor(rule: Rule, reason: string) {
    super(`rule ${JSON.stringify(rule.comment)} in ${rule.chain}: ${reason}`);
    this.name = "NftBuildError";
    this.rule = rule;
  }
}
