/**
 * The one helper that builds rule comments. kumactl tags every rule with
 * `kuma/mesh/transparent/proxy/<text>` (`consts.IptablesRuleCommentPrefix`)
 * so that cleanup can find its rules; we keep that prefix for compatibility.
 *
 * @module
 */
import { COMMENT_PREFIX } from "./model.ts";

/** xt_comment stores at most 256 bytes including the terminating NUL. */
export const MAX_COMMENT_BYTES = 255;

/** A comment that cannot be written safely. */
export class CommentError extends Error {
  /** The offending comment text (without the prefix). */
  readonly text: string;

  /**
   * @example
   * ```ts
   * import { CommentError } from "./comment.ts";
   * if (new CommentError("x", "is empty").text !== "x") throw new Error();
   * ```
   */
  constructor(text: string, reason: string) {
    super(`rule comment ${JSON.stringify(text)} ${reason}`);
    this.name = "CommentError";
    this.text = text;
  }
}

/**
 * Returns the full comment for a rule, `kuma/mesh/transparent/proxy/<text>`.
 *
 * Throws a {@link CommentError} when the text holds a quote (firewalld
 * re-quotes direct-rule arguments, so `"` or `'` would break the restore input
 * it generates), a line break, or when the whole comment is longer than
 * {@link MAX_COMMENT_BYTES} bytes (kumactl silently cut it at 254 bytes; we
 * would rather fail loudly than store a truncated marker).
 *
 * @example
 * ```ts
 * import { fullComment } from "./comment.ts";
 * const c = fullComment("return early for DNS traffic from kuma-dp");
 * if (c !== "kuma/mesh/transparent/proxy/return early for DNS traffic from kuma-dp") {
 *   throw new Error(c);
 * }
 * ```
 */
export function fullComment(text: string): string {
  if (text.trim() === "") throw new CommentError(text, "is empty");
  if (/["'\\\n\r]/.test(text)) {
    throw new CommentError(text, "contains a quote, backslash or line break");
  }
  const full = `${COMMENT_PREFIX}/${text}`;
  const bytes = new TextEncoder().encode(full).length;
  if (bytes > MAX_COMMENT_BYTES) {
    throw new CommentError(text, `is ${bytes} bytes long with its prefix (at most 255)`);
  }
  return full;
}
