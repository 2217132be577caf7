/**
 * The refusal for a direct rule of someone else's that jumps to one of our
 * chains (src/rules/ownership.ts `isForeignJump`), wherever firewalld keeps
 * it: the permanent config, the runtime config or direct.xml. It names the
 * rule as `firewall-cmd --direct --get-all-rules` prints it and says how to
 * remove it there, as the kernel's `foreign_jump` refusal does for iptables
 * (src/iptables/save_parser.ts `assertSafeToClean`). Pure.
 *
 * @module
 */
import { describeEntry, type DirectEntry, foreignJumpsOf } from "./direct_entries.ts";
import { FirewalldError } from "./errors.ts";
import { jumpTargetOf } from "../rules/ownership.ts";
import { joinArgs } from "./shell_words.ts";

/** Where firewalld keeps direct entries. */
export type DirectPlace =
  | { kind: "permanent" }
  | { kind: "runtime" }
  | { kind: "direct.xml"; path: string };

/**
 * Throws a `foreign_jump` {@link FirewalldError} naming the first rule of
 * `entries` that is not ours and jumps to one of our chains; returns when
 * there is none.
 *
 * @example
 * ```ts
 * import { assertNoForeignJump } from "./foreign_jump.ts";
 * const admin = { kind: "rule", ipv: "ipv4", table: "nat", chain: "PREROUTING",
 *   priority: -5, args: ["-p", "tcp", "-j", "KUMA_MESH_INBOUND"] } as const;
 * let refused = false;
 * try {
 *   assertNoForeignJump([{ ...admin, args: [...admin.args] }], { kind: "runtime" });
 * } catch {
 *   refused = true;
 * }
 * if (!refused) throw new Error();
 * ```
 */
export function assertNoForeignJump(entries: readonly DirectEntry[], place: DirectPlace): void {
  const [rule] = foreignJumpsOf(entries);
  if (!rule) return;
  const target = jumpTargetOf(rule.args);
  const spec = `${rule.ipv} ${rule.table} ${rule.chain} ${rule.priority} ${joinArgs(rule.args)}`;
  const [where, remedy] = place.kind === "permanent"
    ? [
      "firewalld's permanent direct config",
      // The reload takes it out of the runtime config too, where it usually also is.
      `firewall-cmd --permanent --direct --remove-rule ${spec}, then firewall-cmd --reload`,
    ]
    : place.kind === "runtime"
    ? ["firewalld's runtime direct config", `firewall-cmd --direct --remove-rule ${spec}`]
    : [place.path, `delete that <rule> from ${place.path}`];
  throw new FirewalldError(
    "foreign_jump",
    `A direct rule we did not create jumps to our chain ${target} in ${where}: ` +
      `${describeEntry(rule)}. It has no kuma/mesh/transparent/proxy/ comment, so it is not ` +
      `ours to delete, and removing our chain would break it. Remove or retag that rule ` +
      `yourself (${remedy}), then run this again`,
    place.kind === "direct.xml" ? { path: place.path } : {},
  );
}
