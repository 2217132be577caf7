/**
 * What an install waiting for confirmation leaves out: every step that
 * changes what is read at boot (a persistence target's stage and commit,
 * the removal of our older boot unit, a running firewalld's permanent
 * config). The kernel steps stay; confirm writes the rest. Pure, beside the program it edits (install_program.ts).
 *
 * @module
 */
import type { InstallProgram, InstallStep } from "../install_program.ts";
import type { TargetChoice } from "../targets/registry.ts";

/** The program without its persistence, and what confirm must write. */
export interface Deferred {
  program: InstallProgram;
  persist: { targets: TargetChoice[]; removeUnit: boolean; firewalld: boolean };
}

/** Steps that change firewalld's permanent config and cannot wait yet: refused with --confirm-timeout. */
const NOT_DEFERRABLE: Partial<Record<InstallStep["kind"], string>> = {
  "remove-stale-firewalld-entries": "removing our entries from a running firewalld",
};

/**
 * Defers `program`'s persistence: a running firewalld gets the rules in its
 * runtime config only. Throws a `RangeError` naming a step that cannot wait
 * (taking our entries out of a running firewalld), before anything runs.
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
  let firewalld = false;
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
      case "store-in-running-firewalld":
        // Its runtime config now, its permanent config at confirm.
        firewalld = true;
        steps.push({ ...step, runtimeOnly: true });
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
    persist: { targets, removeUnit, firewalld },
  };
}
