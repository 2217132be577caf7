/**
 * What an install waiting for confirmation leaves out: every step that
 * changes what is read at boot (a persistence target's stage and commit,
 * the removal of our older boot unit). The kernel steps stay; confirm
 * writes the rest. Pure, beside the program it edits (install_program.ts).
 *
 * @module
 */
import type { InstallProgram, InstallStep } from "../install_program.ts";
import type { TargetChoice } from "../targets/registry.ts";

/** The program without its persistence, and what confirm must write. */
export interface Deferred {
  program: InstallProgram;
  persist: { targets: TargetChoice[]; removeUnit: boolean };
}

/** Steps that change firewalld itself: not deferred yet, so refused with --confirm-timeout. */
const NOT_DEFERRABLE: Partial<Record<InstallStep["kind"], string>> = {
  "store-in-running-firewalld": "storing the rules through a running firewalld (--store-firewalld)",
  "remove-stale-firewalld-entries": "removing our entries from a running firewalld",
};

/**
 * Defers `program`'s persistence. Throws a `RangeError` naming a step that
 * cannot wait (a running firewalld's permanent config), before anything runs.
 *
 * @example
 * ```ts
 * import { deferPersistence } from "./defer.ts";
 * const target = { name: "systemd", want: "ours" } as const;
 * const d = deferPersistence({ rollback: [], steps: [
 *   { kind: "prepare-target", target },
 *   { kind: "apply-kernel", pretest: true, commit: [target] },
 * ] });
 * if (d.program.steps.length !== 1 || d.persist.targets[0] !== target) throw new Error();
 * ```
 */
export function deferPersistence(program: InstallProgram): Deferred {
  const targets: TargetChoice[] = [];
  let removeUnit = false;
  const steps: InstallStep[] = [];
  for (const step of program.steps) {
    const refused = NOT_DEFERRABLE[step.kind];
    if (refused) throw new RangeError(`--confirm-timeout cannot defer ${refused} yet`);
    switch (step.kind) {
      case "prepare-target":
        targets.push(step.target);
        break;
      case "commit-target":
        break;
      case "remove-stale-unit":
        removeUnit = true;
        break;
      case "apply-kernel":
        steps.push({ ...step, commit: [] });
        break;
      default:
        steps.push(step);
    }
  }
  return {
    program: { steps, rollback: program.rollback.filter((r) => !r.startsWith("staged ")) },
    persist: { targets, removeUnit },
  };
}
