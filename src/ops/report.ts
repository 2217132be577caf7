/**
 * The result of `install` and `uninstall` as data: every step records what
 * it changed here as it prints it, and the command line renders the whole
 * as text (the lines, as they happen) or, with `--json`, as one object at
 * the end, success or failure. The schema is `REPORT_SCHEMA_VERSION`,
 * documented in the README ("JSON reports") and in `docs/report.schema.json`,
 * which `tests/unit/cli/report_schema_test.ts` validates every report against.
 *
 * @module
 */
import { countRemoval, type Counts } from "./counts.ts";

/** Bumped on any change a parser could notice; additions of optional fields included. */
export const REPORT_SCHEMA_VERSION = 2;

/** Where a backend's rules changed: one family in one backend, named as `--backend` names it. */
export interface BackendChange extends Counts {
  /** Absent for our nft table, which holds both families (`inet`). */
  family?: 4 | 6;
  /** `iptables-nft`, `iptables-legacy` or `nftables`. */
  backend: string;
  /**
   * `installed`: the planned rules are in; `replaced`: an earlier
   * installation in the same backend was taken out by the same transaction;
   * `removed`: our rules were removed (uninstall, or an earlier
   * installation elsewhere). In a dry run, what would be done.
   */
  action: "installed" | "replaced" | "removed";
  /** `firewalld` when a running firewalld applied them, else `kernel`. */
  via: "kernel" | "firewalld";
}

/** A persistence target and the lines that say what changed in it. */
export interface TargetChange {
  /**
   * `firewalld` (a running firewalld's permanent and runtime config, over
   * D-Bus), or a registered target's name (targets/registry.ts):
   * `direct.xml` (a stopped firewalld's file), `systemd` (the boot unit).
   */
  target: string;
  lines: string[];
}

/** The JSON report of install, uninstall and confirm (docs/report.schema.json). */
export interface RunReport {
  schemaVersion: typeof REPORT_SCHEMA_VERSION;
  command: "install" | "uninstall" | "confirm";
  /** Whether it was a dry run; null when the config could not be read. */
  dryRun: boolean | null;
  /**
   * Whether a rule or file changed: false in a dry run, when nothing was
   * changed (an unchanged re-install) and after a refusal before the first
   * change; null when a failure leaves it unknown (read `error`).
   */
  changed: boolean | null;
  changes: BackendChange[];
  persistence: TargetChange[];
  /** The `# [WARNING]` lines of stderr, without the prefix. */
  warnings: string[];
  /** The other `# ` lines of stderr. */
  messages: string[];
  /** What the text form prints on stdout (the dry run's rules, the result lines). */
  output: string;
  exitCode: number;
  exitMeaning: string;
  /** Why the command failed, as stderr says it; only when it did. */
  error?: string;
}

/** What the steps of a command call to record a result; carried in `OpsIo.report`. */
export interface ReportRecorder {
  message(kind: "info" | "warning", line: string): void;
  output(text: string): void;
  change(change: BackendChange): void;
  /** A line of a persistence target; the same line is printed on stdout by the caller. */
  persisted(target: TargetChange["target"], line: string): void;
  /** What the command knows it changed, said at its end (before a failure it reports). */
  settle(changed: boolean): void;
  /** From here a failure may leave a change; before it, a failure changed nothing. */
  mayChange(): void;
}

/** Keeps the messages only: what status, which returns its own report, records. */
export class MessageLog implements ReportRecorder {
  readonly warnings: string[] = [];
  readonly messages: string[] = [];
  message(kind: "info" | "warning", line: string): void {
    (kind === "warning" ? this.warnings : this.messages).push(line);
  }
  output(): void {}
  change(): void {}
  persisted(): void {}
  settle(): void {}
  mayChange(): void {}
}

/** Collects a {@linkcode RunReport}; `finish` completes it with the exit code. */
export class RunReportBuilder implements ReportRecorder {
  #report: RunReport;
  #settled: boolean | undefined;
  #mayHaveChanged = false;

  constructor(command: RunReport["command"]) {
    this.#report = {
      schemaVersion: REPORT_SCHEMA_VERSION,
      command,
      dryRun: null,
      changed: null,
      changes: [],
      persistence: [],
      warnings: [],
      messages: [],
      output: "",
      exitCode: 0,
      exitMeaning: "",
    };
  }

  setDryRun(dryRun: boolean): void {
    this.#report.dryRun = dryRun;
  }

  message(kind: "info" | "warning", line: string): void {
    (kind === "warning" ? this.#report.warnings : this.#report.messages).push(line);
  }

  output(text: string): void {
    this.#report.output += text;
  }

  change(change: BackendChange): void {
    this.#report.changes.push(change);
  }

  persisted(target: TargetChange["target"], line: string): void {
    let entry = this.#report.persistence.find((p) => p.target === target);
    if (!entry) this.#report.persistence.push(entry = { target, lines: [] });
    entry.lines.push(line);
  }

  settle(changed: boolean): void {
    this.#settled = changed;
  }

  mayChange(): void {
    this.#mayHaveChanged = true;
  }

  /**
   * The finished report. `changed`: never in a dry run or a usage error
   * (exit 2 changes nothing); what the command settled on, if it did; else
   * true when a change was recorded; false after a success that recorded
   * none, or a failure before the command's first change (`mayChange`);
   * null after another failure that did not.
   */
  finish(
    exitCode: number,
    exitMeaning: string,
    options: { error?: string; usage?: boolean } = {},
  ): RunReport {
    const r = this.#report;
    const recorded = r.changes.length > 0 || r.persistence.length > 0;
    r.changed = r.dryRun === true || options.usage
      ? false
      : this.#settled !== undefined
      ? this.#settled
      : recorded
      ? true
      : options.error === undefined || !this.#mayHaveChanged
      ? false
      : null;
    r.exitCode = exitCode;
    r.exitMeaning = exitMeaning;
    if (options.error !== undefined) r.error = options.error;
    return r;
  }
}

/** What uninstalling our rules from one iptables backend changed, as a report entry. */
export function removedFrom(
  b: { family: 4 | 6; mode: "nft" | "legacy"; removed: readonly string[] },
): BackendChange {
  return {
    family: b.family,
    backend: iptablesBackend(b.mode),
    action: "removed",
    via: "kernel",
    ...countRemoval(b.removed),
  };
}

/** The name of an iptables backend as `--backend` and the report name it. */
export function iptablesBackend(mode: "nft" | "legacy"): string {
  return `iptables-${mode}`;
}
