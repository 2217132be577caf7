/**
 * How a pending install (pending.ts) takes part in install.ts and
 * nft_step.ts without their knowing more: it edits the program (defer.ts)
 * and is called once, after everything was read and checked and before
 * the first change, to snapshot what the rollback will restore.
 *
 * @module
 */
import type { FirewalldBus } from "../../firewalld/bus.ts";
import type { LiveDumps } from "../../iptables/dumps.ts";
import type { InstallProgram } from "../install_program.ts";
import type { InstallPlan } from "../plan.ts";

export interface InstallHooks {
  /** The program to run instead of `program`; throws to refuse, nothing changed. */
  program(program: InstallProgram): InstallProgram;
  /**
   * Before the first change, with the live rules this run read under its
   * lock, and a running firewalld's bus.
   */
  beforeChange(plan: InstallPlan, dumps?: LiveDumps, bus?: FirewalldBus): Promise<void>;
}
