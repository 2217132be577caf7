/**
 * `install --confirm-timeout`: the install runs as always, minus its
 * persistence (defer.ts); before its first change, what the rollback will
 * restore is recorded in /run (record.ts) and a detached watcher is started
 * (watch.ts). Unless `kuma-tproxy confirm` runs in time, the watcher puts
 * the previous kernel state back. The record is written before the kernel
 * changes, so an install killed half-way is rolled back too.
 *
 * @module
 */
import type { Config } from "../../config/types.ts";
import type { FirewalldBus } from "../../firewalld/bus.ts";
import { runtimeEntries } from "../../firewalld/persist.ts";
import type { LiveDumps } from "../../iptables/dumps.ts";
import { snapshot } from "../../iptables/transaction.ts";
import { findNft, readOurTable, saveOurTable } from "../../nftables/exec.ts";
import type { Runner } from "../../os/runner.ts";
import { UserError } from "../errors.ts";
import { EXIT } from "../exit_codes.ts";
import type { InstallProgram } from "../install_program.ts";
import type { OpsIo } from "../io.ts";
import { warn } from "../log.ts";
import type { InstallPlan } from "../plan.ts";
import { deferPersistence } from "./defer.ts";
import { formatDuration } from "./duration.ts";
import type { InstallHooks } from "./hooks.ts";
import {
  appendLog,
  type PendingRecord,
  readRecord,
  recordPath,
  removeRecord,
  writeRecord,
} from "./record.ts";
import { spawnWatcher } from "./spawn.ts";

/** The deadline as messages say it: UTC, to the second. */
export function formatDeadline(ms: number): string {
  return new Date(Math.ceil(ms / 1000) * 1000).toISOString().replace(/\.000Z$/, "Z");
}

/**
 * Refuses to go on while an install waits for confirmation: a second
 * install would change what its rollback restores. One past its deadline is
 * rolled back first, as its watcher would (which may be waiting for this
 * run's lock, or gone). Under the run lock.
 */
export async function refuseWhilePending(io: OpsIo): Promise<void> {
  const record = await readPendingOrFail(io);
  if (!record) return;
  if (record.confirmed) {
    throw new UserError(
      "an earlier `kuma-tproxy confirm` kept the pending install's rules but did not finish " +
        "storing them: run `kuma-tproxy confirm` to finish, then install again; nothing was changed",
    );
  }
  if (Date.now() >= record.deadline) {
    // Due, and this run holds the lock its watcher needs (or the watcher is gone): roll it back
    // here, as the watcher would, then go on.
    const { rollBackAndLog } = await import("./watch.ts");
    const outcome = await rollBackAndLog(
      io,
      record,
      `the install waiting for confirmation until ${formatDeadline(record.deadline)} is overdue`,
    );
    if (outcome.ok) return;
    throw new UserError(
      "the previous rules could not all be put back (see above); nothing else was changed",
    );
  }
  throw new UserError(
    `an install is waiting for confirmation until ${formatDeadline(record.deadline)}: run ` +
      "`kuma-tproxy confirm` to keep it (or let it roll back, or run uninstall, which " +
      "supersedes it), then install again; nothing was changed",
  );
}

/** The record, or a clear error when it cannot be read. */
export async function readPendingOrFail(io: OpsIo): Promise<PendingRecord | undefined> {
  try {
    return await readRecord(io);
  } catch (e) {
    throw new UserError(
      `cannot read the pending install's record: ${(e as Error).message}; nothing was changed ` +
        "(uninstall removes our rules and sets the record aside)",
    );
  }
}

/** Our nft table's text, to put back; undefined without nft (then we never had one: install checked). */
async function nftSnapshot(runner: Runner): Promise<PendingRecord["nft"]> {
  let path: string;
  try {
    path = await findNft(runner);
  } catch {
    return undefined;
  }
  const found = await readOurTable(runner, path);
  return { path, before: found.table ? await saveOurTable(runner, path) : null };
}

/**
 * Runs `run` (the install, given the hooks) as a pending install that rolls
 * back after `timeoutMs` unless confirmed. Under the run lock.
 */
export async function installPending(
  config: Config,
  io: OpsIo,
  timeoutMs: number,
  run: (hooks: InstallHooks) => Promise<number>,
): Promise<number> {
  const id = crypto.randomUUID();
  let record: PendingRecord | undefined;
  let persist: PendingRecord["persist"] = { targets: [], removeUnit: false, firewalld: false };
  // Nothing to change (install_program.ts's `report-unchanged`): nothing to roll back or confirm.
  let unchanged = false;
  const hooks: InstallHooks = {
    program(program: InstallProgram): InstallProgram {
      unchanged = program.steps.every((s) => s.kind === "report-unchanged");
      if (unchanged) return program;
      try {
        const deferred = deferPersistence(program);
        persist = deferred.persist;
        return deferred.program;
      } catch (e) {
        throw new UserError(`${(e as Error).message}; nothing was changed`, EXIT.USAGE);
      }
    },
    async beforeChange(plan: InstallPlan, dumps?: LiveDumps, bus?: FirewalldBus) {
      if (unchanged) return;
      const iptables = await snapshot(io.runner, plan.executables, dumps);
      const nft = await nftSnapshot(io.runner);
      // firewalld takes the rules: its runtime config is what the rollback puts back first.
      const firewalld = persist.firewalld && bus
        ? { runtime: await runtimeEntries(bus) }
        : undefined;
      const { renderConfigYaml } = await import("../../config/explain.ts");
      const now = Date.now();
      const r: PendingRecord = {
        version: 1,
        id,
        startedAt: now,
        deadline: now + timeoutMs,
        timeoutMs,
        backend: config.backend,
        applied: false,
        iptables,
        ...(nft ? { nft } : {}),
        ...(firewalld ? { firewalld } : {}),
        restore: {
          wait: config.wait,
          waitInterval: config.waitInterval,
          maxRetries: config.retry.maxRetries,
          sleepMs: config.retry.sleepBetweenRetries,
        },
        persist,
        config: renderConfigYaml(config),
      };
      try {
        await writeRecord(io, r);
      } catch (e) {
        throw new UserError(
          `cannot write ${recordPath(io)} (${(e as Error).message}), which the rollback needs; ` +
            "nothing was changed",
        );
      }
      record = r;
      try {
        r.watcherPid = await spawnWatcher(io, id);
        await writeRecord(io, r);
      } catch (e) {
        record = undefined;
        await removeRecord(io).catch(() => {});
        throw new UserError(
          `cannot start the process that rolls back an unconfirmed install (${
            (e as Error).message
          }); nothing was changed`,
        );
      }
    },
  };
  let code: number;
  try {
    code = await run(hooks);
  } catch (e) {
    // The install put back what it changed, or says what it could not: then the record is what
    // still knows the previous rules. Rolling back from it starts from the live rules (after a
    // rollback that worked, it finds nothing to do); it is removed only when all is back, else
    // the watcher, confirm or the next install try again.
    if (record) {
      const { rollBackAndLog } = await import("./watch.ts");
      await rollBackAndLog(io, record, "the install failed", { quietWhenNothing: true })
        .catch(() => {});
    }
    throw e;
  }
  if (!record) return code;
  if (code !== EXIT.OK) {
    await removeRecord(io).catch(() => {});
    return code;
  }
  // The window counts from the end of the apply, as iptables-apply's does.
  record.applied = true;
  record.deadline = Date.now() + timeoutMs;
  await writeRecord(io, record);
  warn(
    io,
    `not confirmed yet: run \`kuma-tproxy confirm\` within ${formatDuration(timeoutMs)} (by ${
      formatDeadline(record.deadline)
    }), from a new connection, or the previous rules come back; nothing read at boot changes ` +
      "until then",
  );
  return code;
}

/**
 * uninstall supersedes a pending install: it removes everything of ours,
 * so there is nothing left to roll back to and the record goes first (its
 * watcher then exits). Under the run lock.
 */
export async function supersedePending(io: OpsIo): Promise<void> {
  let record: PendingRecord | undefined;
  try {
    record = await readRecord(io);
  } catch (e) {
    // Nothing can act on it, and uninstall removes what it may name: kept for a look, not deleted.
    const aside = `${recordPath(io)}.damaged`;
    await Deno.rename(recordPath(io), aside);
    const line = `uninstall supersedes a pending record it cannot read (${
      (e as Error).message
    }); moved to ${aside}`;
    await appendLog(io, [line]);
    warn(io, line);
    return;
  }
  if (!record) return;
  await removeRecord(io);
  const line = `uninstall supersedes the install waiting for confirmation until ${
    formatDeadline(record.deadline)
  }: it will not be rolled back`;
  await appendLog(io, [line]);
  warn(io, line);
}
