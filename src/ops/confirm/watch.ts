/**
 * The watcher of a pending install (`kuma-tproxy confirm-watch ID`, started
 * by spawn.ts): waits for the deadline in the record, re-reading it, and
 * exits as soon as the record is gone or is another install's (confirmed,
 * superseded by uninstall). At the deadline it takes the run lock (install
 * holds it until it finished), reads the record once more, and puts the
 * previous kernel state back (rollback.ts). What happened goes to the log
 * in /run/kuma-tproxy (its stderr is /dev/null) and to stderr, for a
 * watcher run by hand.
 *
 * @module
 */
import type { OpsIo } from "../io.ts";
import { warn } from "../log.ts";
import { withRunLock } from "../run_lock.ts";
import { formatDuration } from "./duration.ts";
import { WATCHING } from "./spawn.ts";
import { appendLog, type PendingRecord, readRecord, removeRecord } from "./record.ts";
import { type RollbackOutcome, rollBackPending } from "./rollback.ts";

/** How often the record is looked at: how long a confirmed install's watcher lingers. */
const POLL_MS = 250;

const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

/** Rolls `record` back and says so; under the run lock. */
export async function rollBackAndLog(
  io: OpsIo,
  record: PendingRecord,
  why: string,
  options: { quietWhenNothing?: boolean } = {},
): Promise<RollbackOutcome> {
  const outcome = await rollBackPending(io, record);
  if (options.quietWhenNothing && outcome.ok && outcome.lines.length === 0) {
    await removeRecord(io);
    return outcome;
  }
  // A rollback that failed keeps the record: what it names is not back yet, so `confirm` or the
  // next install tries again (rollBackPending is idempotent: it starts from the live rules), and
  // status keeps saying so; uninstall, which removes everything of ours, supersedes it.
  if (outcome.ok) await removeRecord(io);
  const head = `${why}: ${
    outcome.ok
      ? "the previous rules were put back"
      : "putting the previous rules back FAILED; the record is kept: `kuma-tproxy confirm` or " +
        "install tries again, uninstall removes our rules"
  }`;
  const lines = [head, ...outcome.lines.map((l) => `  ${l}`)];
  await appendLog(io, lines);
  for (const l of [head, ...outcome.lines]) warn(io, l);
  return outcome;
}

/** Runs the watcher for the record `id`; exit code 0 unless a rollback failed. */
export async function runWatch(io: OpsIo, id: string): Promise<number> {
  let watching = false;
  for (;;) {
    let record: PendingRecord | undefined;
    try {
      record = await readRecord(io);
    } catch (e) {
      const line = `the watcher ${id} cannot read the record: ${(e as Error).message}`;
      await appendLog(io, [line]);
      // Before it watches, install reads its stdout and quotes this line (spawn.ts).
      if (!watching) io.out(`${line}\n`);
      return 1;
    }
    if (record?.id !== id) return 0;
    // confirm began storing it: the rules stay; the next confirm finishes (confirm.ts).
    if (record.confirmed) return 0;
    if (!watching) {
      // install waits for this line before its first change (spawn.ts); nothing else goes to stdout.
      io.out(`${WATCHING}\n`);
      watching = true;
    }
    const left = record.deadline - Date.now();
    if (left > 0) {
      await sleep(Math.min(left, POLL_MS));
      continue;
    }
    let done: RollbackOutcome | undefined;
    try {
      done = await withRunLock(io, { exclusive: true }, async () => {
        const now = await readRecord(io);
        if (now?.id !== id || now.confirmed) return { ok: true, lines: [] };
        // Still applying when the provisional deadline passed: the window starts at its end.
        if (now.deadline > Date.now()) return undefined;
        return await rollBackAndLog(
          io,
          now,
          `the install started ${new Date(now.startedAt).toISOString()} was not confirmed ` +
            `within ${formatDuration(now.timeoutMs)}${now.applied ? "" : " (it did not finish)"}`,
        );
      });
    } catch (e) {
      // The lock's wait is bounded (waits.ts); the rollback must still happen.
      await appendLog(io, [`the watcher ${id} waits for the run lock: ${(e as Error).message}`]);
      await sleep(1_000);
      continue;
    }
    if (done) return done.ok ? 0 : 1;
  }
}
