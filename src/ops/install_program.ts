/**
 * The install as a program: from the facts (the backend, firewalld running,
 * stopped or absent, the persistence chosen, our stale firewalld entries,
 * a dry run) to the steps install runs, in order, and the order in which a
 * failure undoes them. Pure, so that every combination is one row of a case
 * table (tests/unit/ops/install_program_test.ts); install.ts runs the steps.
 *
 * The kernel apply is one transaction whose last step is `persist`: a
 * persistence step that fails there rolls the kernel back too
 * (src/iptables/transaction.ts), and the boot files' commit, last of all,
 * puts the previous files back itself when it fails. A running firewalld
 * takes the rules itself (it flushes iptables at every reload, so rules it
 * does not own would not last): no kernel apply then. With nftables one
 * `nft -f` replaces our table; the boot files are committed after it and our
 * iptables rules go last; a failure after the `nft -f` puts the table back.
 * When the live rules and the persisted files already equal the plan
 * (`current`, current.ts) and nothing stale is to go, the program is one
 * step that writes nothing: what configuration management needs from a
 * re-install.
 *
 * @module
 */
import type { FirewalldPresence } from "../systemd/choice.ts";
import { chooseTargets, type TargetChoice } from "./targets/registry.ts";

/** What install knows once the plan and the firewalld probe are in. */
export interface InstallFacts {
  backend: "iptables" | "nftables";
  firewalld: FirewalldPresence;
  /** The rules go into firewalld's direct config (`choosePersistence`). */
  storeFirewalld: boolean;
  /** The boot unit: written, removed (firewalld took over), or left as it is. */
  bootUnit: "write" | "remove" | "leave";
  /** Our entries from an earlier --store-firewalld, where install must remove them (none when storing). */
  staleEntries: "none" | "dbus" | "direct.xml";
  dryRun: boolean;
  /**
   * The rules of every family and backend install touches, firewalld's
   * direct config of ours and each persistence target already equal the
   * plan, and no unit of ours is there to remove (current.ts), or not (or
   * not read: a dry run).
   */
  current: "equal" | "differs";
}

/** One step of the program. */
export type InstallStep =
  | { kind: "print-dry-run" }
  /** Everything already equals the plan: says so, touches neither the kernel nor a file. */
  | { kind: "report-unchanged" }
  /**
   * A persistence target (targets/): refuses what it could not take, then
   * writes its new content aside, before the kernel changes, so a host where
   * it cannot be written keeps everything.
   */
  | { kind: "prepare-target"; target: TargetChoice }
  /** A running firewalld takes its runtime copies of our stale entries out of the kernel. */
  | { kind: "remove-stale-firewalld-entries" }
  /**
   * Through D-Bus: firewalld applies the rules and keeps them permanently;
   * `runtimeOnly`, the permanent config waits (an install pending confirmation).
   */
  | { kind: "store-in-running-firewalld"; runtimeOnly?: boolean }
  /**
   * The all-or-nothing restore of every family; its last step commits the
   * prepared targets of `commit`, in order.
   * `pretest`: the `--test` run started ahead may stand for the apply's own,
   * since nothing changed the rules before.
   */
  | { kind: "apply-kernel"; pretest: boolean; commit: TargetChoice[] }
  /** firewalld now persists the rules: our older unit would apply an older config at boot. */
  | { kind: "remove-stale-unit" }
  /** The record in /run that our nft table may be in the kernel (nft_marker.ts), before it is. */
  | { kind: "record-nft-install" }
  /** One `nft -f` replaces our table for both families. */
  | { kind: "apply-nft" }
  /** A prepared target's content takes the place of the previous (the boot files, after `nft -f`). */
  | { kind: "commit-target"; target: TargetChoice }
  /** Our firewalld entries and iptables rules (either backend), once the table is in. */
  | { kind: "remove-iptables-leftovers" };

export interface InstallProgram {
  steps: InstallStep[];
  /**
   * What a failure puts back, first to last: each name is a step's change,
   * undone in the reverse of the order it was made.
   */
  rollback: string[];
}

/**
 * The program for `facts`.
 *
 * @example
 * ```ts
 * import { installProgram } from "./install_program.ts";
 * const p = installProgram({
 *   backend: "iptables", firewalld: "absent", storeFirewalld: false, bootUnit: "write", staleEntries: "none",
 *   dryRun: false, current: "differs",
 * });
 * if (p.steps.map((s) => s.kind).join() !== "prepare-target,apply-kernel") throw new Error();
 * ```
 */
export function installProgram(facts: InstallFacts): InstallProgram {
  if (facts.dryRun) return { steps: [{ kind: "print-dry-run" }], rollback: [] };
  // Stale entries are a change to make, whatever the rules are. (A unit to
  // remove is part of `current`: "remove" is asked whenever firewalld
  // stores, and there is mostly none.)
  if (facts.current === "equal" && facts.staleEntries === "none") {
    return { steps: [{ kind: "report-unchanged" }], rollback: [] };
  }
  if (facts.backend === "nftables") return nftProgram(facts);
  const targets = targetsOf(facts);
  const steps: InstallStep[] = targets.map((target) => ({ kind: "prepare-target", target }));
  const byFirewalld = facts.storeFirewalld && facts.firewalld === "running";
  if (byFirewalld) {
    // choosePersistence never pairs a running firewalld with the boot unit.
    steps.push({ kind: "store-in-running-firewalld" });
  } else if (!facts.storeFirewalld && facts.staleEntries === "dbus") {
    steps.push({ kind: "remove-stale-firewalld-entries" });
  }
  if (!byFirewalld) {
    // The pretest only read; it stands for the apply's test unless a step changed the rules first.
    const pretest = !facts.storeFirewalld && facts.staleEntries !== "dbus";
    steps.push({ kind: "apply-kernel", pretest, commit: targets });
  }
  if (facts.bootUnit === "remove") steps.push({ kind: "remove-stale-unit" });
  return { steps, rollback: rollbackOf(steps) };
}

/**
 * The persistence targets install writes for `facts`, in commit order:
 * what current.ts compares with the disk before the program is made.
 * nftables: the boot unit only (firewalld's direct interface holds
 * iptables rules only).
 *
 * @example
 * ```ts
 * import { targetsOf } from "./install_program.ts";
 * const t = targetsOf({
 *   backend: "nftables", firewalld: "stopped", storeFirewalld: false, bootUnit: "write", staleEntries: "none",
 * });
 * if (t.map((x) => x.name).join() !== "systemd") throw new Error();
 * ```
 */
export function targetsOf(
  facts: Pick<
    InstallFacts,
    "backend" | "firewalld" | "storeFirewalld" | "bootUnit" | "staleEntries"
  >,
): TargetChoice[] {
  if (facts.backend === "nftables") {
    return facts.bootUnit === "write" ? [{ name: "systemd", want: "ours" }] : [];
  }
  return chooseTargets(
    { firewalld: facts.storeFirewalld, systemd: facts.bootUnit === "write", removeUnit: false },
    { firewalldRunning: facts.firewalld === "running", staleEntries: facts.staleEntries },
  );
}

/**
 * nftables: firewalld's direct interface holds iptables rules only, so the
 * table has one persistence target, the boot unit (choosePersistence).
 * A failure after the `nft -f` puts the table back; boot files already
 * committed stay (the error says so).
 */
function nftProgram(facts: InstallFacts): InstallProgram {
  const targets = targetsOf(facts);
  const writeUnit = targets.length > 0;
  const steps: InstallStep[] = [
    ...targets.map((target) => ({ kind: "prepare-target", target }) as const),
    { kind: "record-nft-install" },
    { kind: "apply-nft" },
    ...targets.map((target) => ({ kind: "commit-target", target }) as const),
    { kind: "remove-iptables-leftovers" },
  ];
  return {
    steps,
    rollback: [
      "nft table (the previous one put back)",
      ...(writeUnit ? ["staged systemd (discarded)"] : []),
    ],
  };
}

/** What a failure puts back in a target. */
const TARGET_ROLLBACK: Record<TargetChoice["name"], string> = {
  "direct.xml": "direct.xml (the previous file kept)",
  systemd: "boot files (the previous ones put back)",
};

/** The changes a failure undoes, last made first. */
function rollbackOf(steps: InstallStep[]): string[] {
  const made: string[] = [];
  for (const step of steps) {
    switch (step.kind) {
      case "prepare-target":
        made.push(`staged ${step.target.name} (discarded)`);
        break;
      case "store-in-running-firewalld":
        made.push("kernel rules (put back as read before, if firewalld leaves mid-way)");
        break;
      case "apply-kernel":
        made.push("kernel rules (each family's previous rules restored)");
        for (const t of step.commit) made.push(TARGET_ROLLBACK[t.name]);
        break;
    }
  }
  return made.reverse();
}
