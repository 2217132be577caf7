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

/** nft printed something that is not the JSON of libnftables-json(5). */
export class NftStateError extends Error {
  readonly code = "nft_bad_json";

  /**
   * @example
   * ```ts
   * import { NftStateError } from "./errors.ts";
   * if (new NftStateError("x").code !== "nft_bad_json") throw new Error();
   * ```
   */
  constructor(message: string) {
    super(message);
    this.name = "NftStateError";
  }
}

/** What went wrong running nft, as far as its exit and stderr tell. */
export type NftErrorCode =
  | "not_found"
  | "no_inet_nat"
  | "missing_module"
  | "rejected"
  | "not_ours"
  | "permission";

/** A failed or refused nft step, with nft's own evidence. */
export class NftError extends Error {
  readonly code: NftErrorCode;
  readonly stderr: string;
  /** nft's exit code, when it ran and failed (128 + N: killed by signal N). */
  readonly exitCode?: number;

  /**
   * @example
   * ```ts
   * import { NftError } from "./errors.ts";
   * if (new NftError("not_found", "no nft").code !== "not_found") throw new Error();
   * ```
   */
  constructor(code: NftErrorCode, message: string, stderr = "", exitCode?: number) {
    super(message);
    this.name = "NftError";
    this.code = code;
    this.stderr = stderr;
    if (exitCode !== undefined) this.exitCode = exitCode;
  }
}
