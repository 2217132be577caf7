/**
 * Uninstall and status: remove our rules from every backend and family, or
 * report what of ours is live.
 */
import type { Family } from "../rules/model.ts";
import { describeRemoval, planRemoval, renderRemoval } from "./cleanup.ts";
import type { LiveDumps } from "./dumps.ts";
import { type Executables, readDump } from "./executables.ts";
import {
  familyTag,
  restoreOnce,
  type RestoreOptions,
  retryableApply,
  withRetries,
} from "./restore_exec.ts";
import type { Runner } from "../os/runner.ts";
import { assertSafeToClean, hasOurs, ourRuleLines, type SaveDump } from "./save_parser.ts";

export interface BackendRemoval {
  family: Family;
  mode: Executables["mode"];
  /** What was (or, in dry-run, would be) removed: `-t nat -D CHAIN spec`, `-t nat -X CHAIN`. */
  removed: string[];
  /** Why this backend was not (fully) cleaned; `removed` then lists what was planned. */
  error?: Error;
  /** False when the rules could not even be read: nothing is known about this backend. */
  inspected: boolean;
}

export interface UninstallReport {
  dryRun: boolean;
  backends: BackendRemoval[];
}

/**
 * Some backends could not be cleaned; `report` says which and why, and which
 * were cleaned (their rules are gone: removal is not rolled back).
 */
export class UninstallError extends Error {
  constructor(readonly report: UninstallReport) {
    const failed = report.backends.filter((b) => b.error);
    const done = report.backends.filter((b) => !b.error && b.removed.length > 0);
    super(
      "uninstall failed: " +
        failed.map((b) =>
          `IPv${b.family} ${b.mode}: ${b.inspected ? "" : "cannot read the rules: "}${
            b.error!.message
          }`
        ).join("; ") +
        (done.length > 0
          ? `; removed from ${
            done.map((b) => `IPv${b.family} ${b.mode} (${b.removed.length} entries)`).join(", ")
          }`
          : ""),
    );
    this.name = "UninstallError";
  }
}

/**
 * Removes our rules and chains from every given backend. All dumps are read
 * (side by side: plain saves only read) and checked first, so an unsafe state
 * anywhere ({@linkcode UnsafeStateError}) stops the uninstall before anything
 * changes. `dumps` gives the dumps this run already read under its lock, with
 * nothing changed since; a real removal takes them out, since it changes them. Backends that fail, to read or
 * to apply, do not stop the others (uninstall is the emergency path); the
 * error comes at the end as {@linkcode UninstallError}.
 *
 * @example
 * ```ts ignore
 * const { executables } = await detectAllExecutables(runner, config);
 * const report = await uninstallAll(runner, executables, { wait: 5, waitInterval: 0, maxRetries: 4, sleepMs: 2000 });
 * ```
 */
export async function uninstallAll(
  runner: Runner,
  exes: Executables[],
  options: RestoreOptions & { dryRun?: boolean; dumps?: LiveDumps },
): Promise<UninstallReport> {
  const known = options.dumps;
  const read = (exe: Executables) =>
    known ? (options.dryRun ? known.read(exe) : known.take(exe)) : readDump(runner, exe);
  const dumps: (SaveDump | Error)[] = [];
  for (const r of await Promise.allSettled(exes.map(read))) {
    if (r.status === "rejected") {
      dumps.push(r.reason as Error);
      continue;
    }
    assertSafeToClean(r.value);
    dumps.push(r.value);
  }
  const report: UninstallReport = { dryRun: options.dryRun ?? false, backends: [] };
  for (const [i, exe] of exes.entries()) {
    const dump = dumps[i];
    if (dump instanceof Error) {
      report.backends.push({
        family: exe.family,
        mode: exe.mode,
        removed: [],
        error: dump,
        inspected: false,
      });
      continue;
    }
    const entry: BackendRemoval = {
      family: exe.family,
      mode: exe.mode,
      removed: describeRemoval(planRemoval(dump)),
      inspected: true,
    };
    report.backends.push(entry);
    if (options.dryRun || entry.removed.length === 0) continue;
    let first = true;
    try {
      await withRetries(
        `${familyTag(exe)} ${exe.restore} --noflush`,
        options,
        retryableApply,
        async () => {
          // Re-read on retries: a partial commit or another tool may have changed the rules.
          const live = first ? dump : await readDump(runner, exe);
          first = false;
          assertSafeToClean(live);
          const input = renderRemoval(planRemoval(live));
          if (input !== "") await restoreOnce(runner, exe, input, options);
        },
      );
    } catch (e) {
      entry.error = e as Error;
    }
  }
  if (report.backends.some((b) => b.error)) throw new UninstallError(report);
  return report;
}

/**
 * What of ours is live in one backend, for `status`: one normalised line per
 * chain (`-t nat -N CHAIN`) and rule (`-t nat -A CHAIN spec`, as iptables-save
 * prints it), in dump order.
 *
 * @example
 * ```ts ignore
 * const { installed, ourRules } = await readInstalled(runner, v4);
 * ```
 */
export async function readInstalled(
  runner: Runner,
  exe: Executables,
): Promise<{ installed: boolean; ourRules: string[] }> {
  const dump = await readDump(runner, exe);
  return { installed: hasOurs(dump), ourRules: ourRuleLines(dump) };
}
