/**
 * A persistence target: a place outside the kernel that brings our rules
 * back (at boot, at a firewall start). Install checks it before anything
 * changes, stages the new content, and commits it in the kernel
 * transaction's last step (or discards it); uninstall removes ours; status
 * says what it holds. A running firewalld is not a target but an applier:
 * it takes the rules itself (firewalld_step.ts).
 *
 * @module
 */
import type { Config } from "../../config/types.ts";
import type { PersistChoice } from "../../systemd/choice.ts";
import type { FirewalldHost } from "../firewalld_step.ts";
import type { OpsIo } from "../io.ts";
import type { InstallPlan } from "../plan.ts";
import type { TargetStatus } from "../status_report.ts";

export type { TargetStatus };

/** A registered target's name (registry.ts); also its name in the reports. */
export type TargetName = string;

/** What install wants in a target: our rules for the config, or none of ours. */
export type TargetWant = "ours" | "none";

/** What uninstall took out of a target, and what it could not. */
export interface Removal {
  /** What was removed (or, in a dry run, would be), one line each, as printed. */
  lines: string[];
  /** How many entries or files of ours were (or would be) removed. */
  removed: number;
  /** Printed as warnings: uninstall goes on with the kernel rules. */
  warnings: string[];
  /** What of ours may remain, and how to remove it: uninstall then exits 1. */
  remains: string[];
}

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
  /**
   * Takes out ours, and only ours (foreign content stays). Never throws for
   * the target's own failures: they come back as `remains`, since uninstall
   * goes on with the kernel rules whatever happens here.
   */
  remove(options: { dryRun: boolean }): Promise<Removal>;
  /** What the target holds against the plan; undefined when not wanted and nothing of ours is there. */
  status(): Promise<TargetStatus | undefined>;
}

/**
 * What a target is built from. Install has all of it; uninstall has no plan
 * (it needs no kuma-dp user), and no firewalld host when the probe failed.
 */
export interface TargetContext {
  config: Config;
  io: OpsIo;
  plan?: InstallPlan;
  host?: FirewalldHost;
}

/** The facts the choice of targets reads besides the persistence chosen. */
export interface ChoiceFacts {
  firewalldRunning: boolean;
  /** Where entries of ours from an earlier --store-firewalld are. */
  staleEntries: "none" | "dbus" | "direct.xml";
}

/** A registered target: its name, what install wants there, and how to build it. */
export interface TargetEntry {
  name: TargetName;
  /** What install wants in the target; undefined when install leaves it alone. Pure. */
  wanted(
    choice: Pick<PersistChoice, "firewalld" | "systemd" | "removeUnit">,
    facts: ChoiceFacts,
  ): TargetWant | undefined;
  build(want: TargetWant, context: TargetContext): PersistTarget;
}
