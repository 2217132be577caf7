/**
 * A persistence target: a place outside the kernel that brings our rules
 * back (at boot, at a firewall start). Install checks it before anything
 * changes, stages the new content, and commits it in the kernel
 * transaction's last step (or discards it); uninstall removes ours. A
 * running firewalld is not a target but an applier: it takes the rules
 * itself (firewalld_step.ts).
 *
 * @module
 */

/** The registered targets (registry.ts). */
export type TargetName = "direct.xml" | "systemd";

/** What install wants in a target: our rules for the config, or none of ours. */
export type TargetWant = "ours" | "none";

export interface PersistTarget {
  readonly name: TargetName;
  /**
   * Whether the target already holds, byte for byte, what commit would put
   * there: then an unchanged install writes nothing (install_program.ts's
   * `current`). Reads only.
   */
  matches(): Promise<boolean>;
  /** Before anything changes: throws when the target could not take the change. */
  check(): Promise<void>;
  /** Writes the new content aside; nothing that is read at boot changes yet. */
  stage(): Promise<void>;
  /** Puts the staged content in place; the lines say what changed. Puts the previous back on failure. */
  commit(): Promise<string[]>;
  /** Drops what was staged and not committed; harmless after a commit. */
  discard(): Promise<void>;
}
