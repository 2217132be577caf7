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
 *
 * @module
 */
import type { FirewalldPresence } from "../systemd/choice.ts";

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
}

/** A persistence change made in the kernel transaction's last step, in this order. */
export type PersistStep = "store-direct-xml" | "remove-stale-direct-xml" | "commit-boot-files";

/** One step of the program. */
export type InstallStep =
  | { kind: "print-dry-run" }
  /** Writes the boot files under temporary names: a host where they cannot be written keeps everything. */
  | { kind: "stage-boot-files" }
  /** A running firewalld takes its runtime copies of our stale entries out of the kernel. */
  | { kind: "remove-stale-firewalld-entries" }
  /** Stops the install before the kernel changes when direct.xml cannot be rewritten. */
  | { kind: "check-direct-xml-replaceable" }
  /** Through D-Bus: firewalld applies the rules and keeps them permanently. */
  | { kind: "store-in-running-firewalld" }
  /**
   * The all-or-nothing restore of every family, `persist` as its last step.
   * `pretest`: the `--test` run started ahead may stand for the apply's own,
   * since nothing changed the rules before.
   */
  | { kind: "apply-kernel"; pretest: boolean; persist: PersistStep[] }
  /** firewalld now persists the rules: our older unit would apply an older config at boot. */
  | { kind: "remove-stale-unit" }
  /** The record in /run that our nft table may be in the kernel (nft_marker.ts), before it is. */
  | { kind: "record-nft-install" }
  /** One `nft -f` replaces our table for both families. */
  | { kind: "apply-nft" }
  /** The boot files staged earlier take the place of the previous ones. */
  | { kind: "commit-boot-files" }
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
 *   dryRun: false,
 * });
 * if (p.steps.map((s) => s.kind).join() !== "stage-boot-files,apply-kernel") throw new Error();
 * ```
 */
export function installProgram(facts: InstallFacts): InstallProgram {
  if (facts.dryRun) return { steps: [{ kind: "print-dry-run" }], rollback: [] };
  if (facts.backend === "nftables") return nftProgram(facts);
  const steps: InstallStep[] = [];
  const persist: PersistStep[] = [];
  const writeUnit = facts.bootUnit === "write";
  if (writeUnit) steps.push({ kind: "stage-boot-files" });
  if (facts.storeFirewalld && facts.firewalld === "running") {
    // choosePersistence never pairs a running firewalld with the boot unit.
    steps.push({ kind: "store-in-running-firewalld" });
  } else if (facts.storeFirewalld) {
    persist.push("store-direct-xml");
  } else if (facts.staleEntries === "dbus") {
    steps.push({ kind: "remove-stale-firewalld-entries" });
  } else if (facts.staleEntries === "direct.xml") {
    steps.push({ kind: "check-direct-xml-replaceable" });
    persist.push("remove-stale-direct-xml");
  }
  if (writeUnit) persist.push("commit-boot-files");
  const applies = !(facts.storeFirewalld && facts.firewalld === "running");
  if (applies) {
    // The pretest only read; it stands for the apply's test unless a step changed the rules first.
    const pretest = !facts.storeFirewalld && facts.staleEntries !== "dbus";
    steps.push({ kind: "apply-kernel", pretest, persist });
  }
  if (facts.bootUnit === "remove") steps.push({ kind: "remove-stale-unit" });
  return { steps, rollback: rollbackOf(steps) };
}

/**
 * nftables: firewalld's direct interface holds iptables rules only, so the
 * table has one persistence target, the boot unit (choosePersistence).
 * A failure after the `nft -f` puts the table back; boot files already
 * committed stay (the error says so).
 */
function nftProgram(facts: InstallFacts): InstallProgram {
  const writeUnit = facts.bootUnit === "write";
  const steps: InstallStep[] = [
    ...(writeUnit ? [{ kind: "stage-boot-files" } as const] : []),
    { kind: "record-nft-install" },
    { kind: "apply-nft" },
    ...(writeUnit ? [{ kind: "commit-boot-files" } as const] : []),
    { kind: "remove-iptables-leftovers" },
  ];
  return {
    steps,
    rollback: [
      "nft table (the previous one put back)",
      ...(writeUnit ? ["staged boot files (discarded)"] : []),
    ],
  };
}

/** The changes a failure undoes, last made first. */
function rollbackOf(steps: InstallStep[]): string[] {
  const made: string[] = [];
  for (const step of steps) {
    switch (step.kind) {
      case "stage-boot-files":
        made.push("staged boot files (discarded)");
        break;
      case "store-in-running-firewalld":
        made.push("kernel rules (put back as read before, if firewalld leaves mid-way)");
        break;
      case "apply-kernel":
        made.push("kernel rules (each family's previous rules restored)");
        for (const p of step.persist) {
          made.push(
            p === "commit-boot-files"
              ? "boot files (the previous ones put back)"
              : "direct.xml (the previous file kept)",
          );
        }
        break;
    }
  }
  return made.reverse();
}
