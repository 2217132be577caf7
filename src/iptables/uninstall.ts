/**
 * Uninstall and status: remove our rules from every backend and family, or
 * report what of ours is live.
 */
import type { Family } from "../rules/model.ts";
import { describeRemoval, planRemoval, renderRemoval } from "./cleanup.ts";
import { type Executables, readDump } from "./executables.ts";
import {
  familyTag,
  restoreOnce,
  type RestoreOptions,
  retryableApply,
  withRetries,
} from "./restore_exec.ts";
import type { Runner } from "./runner.ts";
import { assertSafeToClean, hasOurs, ourRuleLines, type SaveDump } from "./save_parser.ts";

export interface BackendRemoval {
  family: Family;
  mode: Executables["mode"];
  /** What was (or, in dry-run, would be) removed: `-t nat -D CHAIN spec`, `-t nat -X CHAIN`. */
  removed: string[];
  error?: Error;
}

export interface UninstallReport {
  dryRun: boolean;
  backends: BackendRemoval[];
}

/** Some backends could not be cleaned; `report` says which and why. */
export class UninstallError extends Error {
  constructor(readonly report: UninstallReport) {
    const failed = report.backends.filter((b) => b.error);
    super(
      "Uninstall failed: " +
        failed.map((b) => `IPv${b.family} ${b.mode}: ${b.error!.message}`).join("; "),
    );
    this.name = "UninstallError";
  }
}

/**
 * Removes our rules and chains from every given backend. All dumps are read
 * and checked first, so an unsafe state anywhere ({@linkcode UnsafeStateError})
 * stops the uninstall before anything changes. Backends that fail do not stop
 * the others; the error comes at the end as {@linkcode UninstallError}.
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
  options: RestoreOptions & { dryRun?: boolean },
): Promise<UninstallReport> {
  const dumps: SaveDump[] = [];
  for (const exe of exes) {
    const dump = await readDump(runner, exe);
    assertSafeToClean(dump);
    dumps.push(dump);
  }
  const report: UninstallReport = { dryRun: options.dryRun ?? false, backends: [] };
  for (const [i, exe] of exes.entries()) {
    const entry: BackendRemoval = {
      family: exe.family,
      mode: exe.mode,
      removed: describeRemoval(planRemoval(dumps[i])),
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
          const live = first ? dumps[i] : await readDump(runner, exe);
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
