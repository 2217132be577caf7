/**
 * The one definition of what is ours. Every layer that decides whether a
 * rule, chain or firewalld entry may be deleted (iptables cleanup, status,
 * firewalld runtime and permanent config, direct.xml, the nft backend) asks
 * these predicates, so the rule is stated once.
 *
 * - A comment is ours when it reads `kuma/mesh/transparent/proxy/<text>`:
 *   the tag followed by `/`. That is the only form kumactl 2.9+ (its
 *   `consts.IptablesRuleCommentPrefix`, then `/`, then the rule's text, in
 *   `pkg/transparentproxy`) and this tool (`fullComment`) ever write. The bare tag alone, or the tag followed by
 *   anything else (`kuma/mesh/transparent/proxyX admin`), is someone else's:
 *   when in doubt a rule stays, because deleting a foreign rule loses data
 *   while leaving one of ours only leaves a rule that `status` still shows.
 * - A chain is ours when its name is `KUMA_MESH_` followed by at least one
 *   character (kumactl `consts.IptablesChainsPrefix` + `_` + the configured
 *   name). `KUMA_MESHY` or `KUMA_MESH` are not.
 * - A rule is ours when it carries our comment or sits in one of our chains.
 *   Where it jumps does not count: a rule of someone else's that jumps to our
 *   chain (a "foreign jump") stays theirs, in the kernel, in firewalld's
 *   runtime and permanent config and in direct.xml alike. It depends on our
 *   chain (iptables will not delete a chain still referenced, and one direct
 *   rule jumping to a missing chain puts firewalld in FAILED state), so
 *   install and uninstall refuse and name it instead of deleting it.
 *
 * @module
 */
import { CHAIN_PREFIX, COMMENT_PREFIX } from "./model.ts";

const OUR_COMMENT_START = `${COMMENT_PREFIX}/`;
const OUR_CHAIN_START = `${CHAIN_PREFIX}_`;
const JUMP_OPTIONS: ReadonlySet<string> = new Set(["-j", "--jump", "-g", "--goto"]);

/**
 * Whether a rule comment (the text of `--comment`, unquoted) is ours.
 *
 * @example
 * ```ts
 * import { isOurComment } from "./ownership.ts";
 * if (!isOurComment("kuma/mesh/transparent/proxy/prevent traffic loops")) throw new Error();
 * if (isOurComment("kuma/mesh/transparent/proxyX admin")) throw new Error();
 * if (isOurComment("kuma/mesh/transparent/proxy")) throw new Error();
 * ```
 */
export function isOurComment(text: string): boolean {
  return text.startsWith(OUR_COMMENT_START);
}

/**
 * Whether a chain name is one we create.
 *
 * @example
 * ```ts
 * import { isOurChain } from "./ownership.ts";
 * if (!isOurChain("KUMA_MESH_OUTBOUND")) throw new Error();
 * if (isOurChain("KUMA_MESHY") || isOurChain("KUMA_MESH_")) throw new Error();
 * ```
 */
export function isOurChain(name: string): boolean {
  return name.length > OUR_CHAIN_START.length && name.startsWith(OUR_CHAIN_START);
}

/**
 * Whether rule words (as iptables-restore or firewalld split them) carry our
 * comment: a `--comment` whose value is ours.
 *
 * @example
 * ```ts
 * import { hasOurCommentWord } from "./ownership.ts";
 * if (!hasOurCommentWord(["-m", "comment", "--comment", "kuma/mesh/transparent/proxy/x", "-j", "RETURN"])) {
 *   throw new Error();
 * }
 * if (hasOurCommentWord(["-m", "comment", "--comment", "kuma/mesh/transparent/proxyX"])) throw new Error();
 * ```
 */
export function hasOurCommentWord(words: readonly string[]): boolean {
  return words.some((w, i) => w === "--comment" && isOurComment(words[i + 1] ?? ""));
}

/**
 * The chain rule words jump or go to (`-j X`, `--jump X`, `-g X`,
 * `--goto X`), if any.
 *
 * @example
 * ```ts
 * import { jumpTargetOf } from "./ownership.ts";
 * if (jumpTargetOf(["-p", "tcp", "-j", "KUMA_MESH_OUTBOUND"]) !== "KUMA_MESH_OUTBOUND") throw new Error();
 * ```
 */
export function jumpTargetOf(words: readonly string[]): string | undefined {
  const i = words.findIndex((w) => JUMP_OPTIONS.has(w));
  return i >= 0 ? words[i + 1] : undefined;
}

/**
 * Whether a rule is ours: it sits in one of our chains or carries our
 * comment. `words` as iptables-restore or firewalld split them.
 *
 * @example
 * ```ts
 * import { isOurRule } from "./ownership.ts";
 * if (!isOurRule("KUMA_MESH_INBOUND", ["-j", "RETURN"])) throw new Error();
 * if (isOurRule("PREROUTING", ["-p", "tcp", "-j", "KUMA_MESH_INBOUND"])) throw new Error();
 * ```
 */
export function isOurRule(chain: string, words: readonly string[]): boolean {
  return isOurChain(chain) || hasOurCommentWord(words);
}

/**
 * Whether a rule that is not ours jumps or goes to one of our chains: the
 * rule install and uninstall refuse to touch and name (see the module doc).
 *
 * @example
 * ```ts
 * import { isForeignJump } from "./ownership.ts";
 * if (!isForeignJump("PREROUTING", ["-p", "tcp", "--dport", "28", "-j", "KUMA_MESH_INBOUND"])) {
 *   throw new Error();
 * }
 * if (isForeignJump("PREROUTING", ["-m", "comment", "--comment", "kuma/mesh/transparent/proxy/x", "-j", "KUMA_MESH_INBOUND"])) {
 *   throw new Error();
 * }
 * if (isForeignJump("PREROUTING", ["-j", "KUMA_MESHY"])) throw new Error();
 * ```
 */
export function isForeignJump(chain: string, words: readonly string[]): boolean {
  if (isOurRule(chain, words)) return false;
  const target = jumpTargetOf(words);
  return target !== undefined && isOurChain(target);
}
