/**
 * Applying a rule set: per family, one `iptables-restore --noflush` whose
 * every table first removes the old installation and then adds the new rules
 * before its COMMIT, so each table switches atomically. Across families (and
 * across tables, which iptables-restore commits one by one) atomicity is
 * ours to provide: a failure or an interrupt rolls every touched family back
 * to its exact prior state.
 */
import type { Family } from "../rules/model.ts";
import { describeRemoval, planRemoval } from "./cleanup.ts";
import { ExecError } from "./errors.ts";
import type { LiveDumps } from "./dumps.ts";
import { type Executables, readDump } from "./executables.ts";
import {
  familyTag,
  restoreOnce,
  type RestoreOptions,
  retryableApply,
  retryableTest,
  withRetries,
} from "./restore_exec.ts";
import { mergeRestore, recreateText, splitTables } from "./restore_text.ts";
import type { Runner } from "../os/runner.ts";
import { assertSafeToClean, ourRuleLines, type SaveDump } from "./save_parser.ts";

/** What to apply for one family: its executables and restore text (the CLI's `FamilyPlan` holds more). */
export interface FamilyRestore {
  exe: Executables;
  /** New rules as iptables-restore input (`*nat` ... `COMMIT`); "" removes only. */
  rulesText: string;
}

/** Options of {@linkcode applyPlans}. */
export interface ApplyOptions extends RestoreOptions {
  /**
   * Abort request (the CLI wires SIGINT/SIGTERM to it). The step in
   * progress finishes, then every family already changed is rolled back.
   */
  signal?: AbortSignal;
  /**
   * The last step of the transaction, after every family is applied: e.g.
   * writing the rules where they persist. If it throws, every family is
   * rolled back and an {@linkcode ApplyError} `persist_failed` carries its
   * error as `cause`, so the kernel never keeps rules that are stored nowhere.
   */
  persist?: () => Promise<void>;
  /**
   * Dumps this run already read under its lock, with nothing changed since:
   * the first read of each family takes its dump from here instead of
   * running the save again. Retries and rollbacks always read afresh.
   */
  dumps?: LiveDumps;
}

export interface FamilyReport {
  family: Family;
  mode: Executables["mode"];
  /** The old installation that was replaced, one line per rule or chain. */
  removed: string[];
}

export interface ApplyReport {
  families: FamilyReport[];
}

/** The outcome of rolling one family back. */
export interface RollbackResult {
  family: Family;
  mode: Executables["mode"];
  /** False if the family was found unchanged and nothing had to be done. */
  changed: boolean;
  error?: Error;
}

/**
 * `test_failed`: the rules were rejected before anything changed, by
 * `--test` or by the kernel refusing a restore that is one transaction
 * ({@linkcode oneTransaction}) in the first family applied.
 */
export type ApplyErrorCode = "test_failed" | "apply_failed" | "aborted" | "persist_failed";

/**
 * Apply failed or was interrupted. `failures` holds iptables' errors,
 * `rollbacks` what was done about families already changed; a rollback with
 * an `error` means that family may be left half-way.
 */
export class ApplyError extends Error {
  constructor(
    readonly code: ApplyErrorCode,
    readonly failures: { family: Family; error: Error }[],
    readonly rollbacks: RollbackResult[],
    /** The error of the `persist` step (`persist_failed`). */
    cause?: unknown,
  ) {
    const parts = failures.map((f) => `IPv${f.family}: ${f.error.message}`);
    const rb = describeRollbacks(rollbacks);
    const head = {
      test_failed: "the rules were rejected by iptables-restore, nothing was changed",
      apply_failed: "applying the rules failed",
      aborted: "applying the rules was interrupted",
      persist_failed: `the rules were applied, but storing them failed (${
        cause instanceof Error ? cause.message : String(cause)
      }), so the kernel was rolled back to the rules it had before`,
    }[code];
    super([head, ...parts, ...rb].join("; "), cause === undefined ? undefined : { cause });
    this.name = "ApplyError";
  }
}

interface FamilyState {
  plan: FamilyRestore;
  /** The live rules before anything was changed. */
  before: SaveDump;
}

function sameOurs(a: SaveDump, b: SaveDump): boolean {
  const x = ourRuleLines(a, { positions: true });
  const y = ourRuleLines(b, { positions: true });
  return x.length === y.length && x.every((l, i) => l === y[i]);
}

/**
 * Whether the real restore of `input` is already one kernel transaction, so
 * that `--test` would only run the kernel's same check twice: on nft, each
 * table's COMMIT is one netlink batch that the kernel takes or refuses whole
 * (iptables/xtables-restore.c commits per table), so input with a single
 * table is one transaction. A rejected one changes nothing in that family,
 * exactly as a rejected `--test` would; a family applied before it is rolled
 * back by {@linkcode commitPlans}, as after any failed apply. What the test
 * would cost is the kernel's: it sends the batch and the kernel aborts it,
 * which waits out an RCU grace period (4-6x the real restore, measured in
 * bench/README.md; docs/decisions.md#d3). Legacy keeps its `--test`: there it only
 * builds the table in userspace, as cheap as the restore itself.
 *
 * @example
 * ```ts
 * import { oneTransaction } from "./transaction.ts";
 * if (!oneTransaction({ mode: "nft" }, "*nat\n-N KUMA_MESH_INBOUND\nCOMMIT\n")) throw new Error();
 * if (oneTransaction({ mode: "nft" }, "*nat\nCOMMIT\n*raw\nCOMMIT\n")) throw new Error();
 * if (oneTransaction({ mode: "legacy" }, "*nat\nCOMMIT\n")) throw new Error();
 * ```
 */
export function oneTransaction(exe: Pick<Executables, "mode">, input: string): boolean {
  return exe.mode === "nft" && splitTables(input).length === 1;
}

/**
 * Runs `--test` on the family's merged input, unless its real restore is
 * {@linkcode oneTransaction}. When the test fails and our rules
 * changed since they were read (another tool, kumactl say, installed or
 * removed meanwhile: our own runs hold the lock in src/ops/run_lock.ts), the
 * input was planned against a stale dump, so the failure is a race, not a
 * bad rule: plan again from the live rules, up to `maxRetries` times.
 * Returns the error that remains, if any.
 */
async function testFamily(
  runner: Runner,
  state: FamilyState,
  options: Omit<ApplyOptions, "persist">,
): Promise<Error | undefined> {
  const { exe, rulesText } = state.plan;
  for (let attempt = 0;; attempt++) {
    const input = mergeRestore(planRemoval(state.before), rulesText);
    if (input === "" || oneTransaction(exe, input)) return undefined;
    try {
      await withRetries(
        `${familyTag(exe)} ${exe.restore} --test`,
        options,
        retryableTest,
        () => restoreOnce(runner, exe, input, { ...options, test: true }),
      );
      return undefined;
    } catch (e) {
      const now = attempt < options.maxRetries
        ? await readDump(runner, exe).catch(() => undefined)
        : undefined;
      if (!now || sameOurs(now, state.before)) return e as Error;
      assertSafeToClean(now);
      options.log?.(`${familyTag(exe)} the rules changed while planning; planning again`);
      state.before = now;
    }
  }
}

/**
 * Puts our part of one family back to `before`: removes whatever of ours is
 * live now and re-creates the old rules where they were, per table in one
 * COMMIT. Never throws; the error is in the result.
 */
async function rollBack(
  runner: Runner,
  state: FamilyState,
  options: RestoreOptions,
): Promise<RollbackResult> {
  const { exe } = state.plan;
  const result: RollbackResult = { family: exe.family, mode: exe.mode, changed: false };
  try {
    await withRetries(`${familyTag(exe)} rollback`, options, retryableApply, async () => {
      const now = await readDump(runner, exe);
      if (sameOurs(now, state.before)) return;
      result.changed = true;
      await restoreOnce(
        runner,
        exe,
        mergeRestore(planRemoval(now), recreateText(state.before)),
        options,
      );
    });
  } catch (e) {
    result.error = e as Error;
  }
  return result;
}

/** The live rules of some backends, taken before a change that is not ours to undo (firewalld's). */
export interface Snapshot {
  states: FamilyState[];
}

/**
 * Reads the live rules of each backend, for {@linkcode rollBackTo}; from
 * `dumps` when this run read them under its lock with nothing changed since.
 */
export async function snapshot(
  runner: Runner,
  exes: readonly Executables[],
  dumps?: LiveDumps,
): Promise<Snapshot> {
  const befores = await Promise.all(
    exes.map((exe) => dumps ? dumps.read(exe) : readDump(runner, exe)),
  );
  return { states: exes.map((exe, i) => ({ plan: { exe, rulesText: "" }, before: befores[i] })) };
}

/**
 * Puts our part of each snapshotted backend back as it was (foreign rules
 * are never touched), for when something outside this module changed the
 * kernel and then failed, e.g. firewalld killed while adding our rules.
 * Never throws; each result says what happened.
 */
export function rollBackTo(
  runner: Runner,
  snap: Snapshot,
  options: RestoreOptions,
): Promise<RollbackResult[]> {
  return rollBackAll(runner, snap.states, options);
}

/**
 * One phrase per rollback, as in {@linkcode ApplyError}'s message.
 * `byBackend` names the backend too and leaves out backends that were found
 * unchanged (for a snapshot of every backend, where most are).
 */
export function describeRollbacks(
  rollbacks: readonly RollbackResult[],
  options: { byBackend?: boolean } = {},
): string[] {
  const shown = options.byBackend ? rollbacks.filter((r) => r.changed || r.error) : rollbacks;
  return shown.map((r) => {
    const who = options.byBackend ? `IPv${r.family} (${r.mode})` : `IPv${r.family}`;
    return r.error
      ? `${who} rollback failed: ${r.error.message}`
      : `${who} ${r.changed ? "rolled back to its prior state" : "was left unchanged"}`;
  });
}

async function rollBackAll(
  runner: Runner,
  states: FamilyState[],
  options: RestoreOptions,
): Promise<RollbackResult[]> {
  const results: RollbackResult[] = [];
  for (const s of [...states].reverse()) {
    options.log?.(`${familyTag(s.plan.exe)} rolling back to the prior state`);
    results.push(await rollBack(runner, s, options));
  }
  return results;
}

/**
 * Replaces our installation with `rulesText` in every planned family, all or
 * nothing:
 *
 * 1. reads the live rules of each family and refuses unsafe states
 *    ({@linkcode UnsafeStateError} from `save_parser.ts`);
 * 2. runs `--test` on every family's merged input that is not one kernel
 *    transaction ({@linkcode oneTransaction}); nothing changes if one fails;
 * 3. applies family by family, with retries; each attempt re-reads the live
 *    rules, so a retry after a partial commit still converges;
 * 4. on failure or abort, rolls back every family already changed;
 * 5. runs `persist`, if given; if it fails, rolls back every family.
 *
 * Throws {@linkcode ApplyError}.
 *
 * @example
 * ```ts ignore
 * await applyPlans(runner, [{ exe: v4, rulesText }, { exe: v6, rulesText: rules6 }], {
 *   wait: 5, waitInterval: 0, maxRetries: 4, sleepMs: 2000,
 * });
 * ```
 */
export async function applyPlans(
  runner: Runner,
  plans: FamilyRestore[],
  options: ApplyOptions,
): Promise<ApplyReport> {
  return await commitPlans(runner, await preparePlans(runner, plans, options), options);
}

/**
 * Steps 1 and 2 of {@linkcode applyPlans}: every family read, and tested
 * unless its restore is one transaction; nothing changed yet. Opaque: only {@linkcode commitPlans} uses it.
 */
export interface PreparedPlans {
  readonly states: readonly FamilyState[];
}

/**
 * Reads the live rules of each family (refusing unsafe states) and runs
 * `--test` on every family's merged input that is not one transaction
 * ({@linkcode oneTransaction}), changing nothing. A caller may
 * run this ahead, beside work that does not touch iptables (the firewalld
 * probe, say), and commit later, if nothing changed the rules in between.
 * Throws {@linkcode ApplyError} `test_failed`.
 *
 * @example
 * ```ts ignore
 * const prepared = await preparePlans(runner, [{ exe: v4, rulesText }], options);
 * await commitPlans(runner, prepared, options);
 * ```
 */
export async function preparePlans(
  runner: Runner,
  plans: FamilyRestore[],
  options: Omit<ApplyOptions, "persist">,
): Promise<PreparedPlans> {
  // Every family at once (plain saves only read); refused in plan order.
  const dumps = await Promise.allSettled(
    plans.map((p) => options.dumps ? options.dumps.take(p.exe) : readDump(runner, p.exe)),
  );
  const states: FamilyState[] = [];
  for (const [i, plan] of plans.entries()) {
    const d = dumps[i];
    if (d.status === "rejected") throw d.reason;
    assertSafeToClean(d.value);
    states.push({ plan, before: d.value });
  }
  if (options.signal?.aborted) throw new ApplyError("aborted", [], []);

  const failures: { family: Family; error: Error }[] = [];
  const errors = await testAll(runner, states, options);
  for (const [i, error] of errors.entries()) {
    if (error) failures.push({ family: states[i].plan.exe.family, error });
  }
  if (failures.length > 0) throw new ApplyError("test_failed", failures, []);
  return { states };
}

/**
 * {@linkcode testFamily} for every family. On nft, which takes no xtables
 * lock, the families' tests run side by side: the kernel still handles one
 * batch at a time, but the second is not held up by a busy JavaScript
 * thread (a pretest runs beside the firewalld probe). Their lines are
 * written family by family, as in turn. Legacy tests take the one xtables
 * lock, so they run in turn (a second test would fail on the held lock, or
 * wait for it, without `--wait`).
 */
async function testAll(
  runner: Runner,
  states: FamilyState[],
  options: Omit<ApplyOptions, "persist">,
): Promise<(Error | undefined)[]> {
  if (!states.every((s) => s.plan.exe.mode === "nft")) {
    const errors: (Error | undefined)[] = [];
    for (const state of states) errors.push(await testFamily(runner, state, options));
    return errors;
  }
  const lines = states.map((): string[] => []);
  const results = await Promise.allSettled(
    states.map((state, i) =>
      testFamily(runner, state, { ...options, log: (line) => void lines[i].push(line) })
    ),
  );
  const errors: (Error | undefined)[] = [];
  for (const [i, r] of results.entries()) {
    for (const line of lines[i]) options.log?.(line);
    if (r.status === "rejected") throw r.reason;
    errors.push(r.value);
  }
  return errors;
}

/**
 * A restore that was one transaction ({@linkcode oneTransaction}), that the
 * kernel refused, while our rules were still exactly as the plan read them
 * before the apply began: this family is as it was, and no retry can help.
 * Not an {@linkcode ExecError}, so {@linkcode withRetries} passes it on.
 */
class Rejected extends Error {
  constructor(override readonly cause: ExecError) {
    super(cause.message);
  }
}

/**
 * Failures that waiting can clear although the restore ran: the kernel was
 * busy, or a signal cut it short (the terminal sends Ctrl-C to the whole
 * process group, the restore included).
 */
const TRANSIENT = /busy|temporarily unavailable|interrupted|no buffer space/i;

/**
 * Whether a failed restore ran to its end and was refused: it exited by
 * itself with a code (128 and above are signals), not on a held lock, a
 * missing tool or permission, or a transient kernel error.
 */
function refused(e: ExecError): boolean {
  return retryableApply(e) && e.code !== "lock_held" && e.exitCode > 0 && e.exitCode < 128 &&
    !TRANSIENT.test(e.stderr);
}

/**
 * What a failed restore of `input` means: {@linkcode Rejected} when it was
 * one transaction, {@linkcode refused}, no interrupt is pending, and a
 * fresh read finds our rules as they were before the apply began (`before`,
 * not this attempt's read: an earlier attempt may have committed a table,
 * and then this family is not as it was and must be rolled back). When our
 * rules changed, another tool raced us, and a retry plans again, as a
 * failed `--test` does in {@linkcode testFamily}. Else the error itself,
 * for the retries.
 */
async function asRejection(
  runner: Runner,
  exe: Executables,
  input: string,
  before: SaveDump,
  e: unknown,
  signal?: AbortSignal,
): Promise<unknown> {
  if (!(e instanceof ExecError) || !refused(e) || signal?.aborted) return e;
  if (!oneTransaction(exe, input)) return e;
  const now = await readDump(runner, exe).catch(() => undefined);
  return now && sameOurs(now, before) ? new Rejected(e) : e;
}

/**
 * Steps 3 to 5 of {@linkcode applyPlans} on what {@linkcode preparePlans}
 * read and tested. Throws {@linkcode ApplyError}.
 */
export async function commitPlans(
  runner: Runner,
  prepared: PreparedPlans,
  options: ApplyOptions,
): Promise<ApplyReport> {
  const states = prepared.states as FamilyState[];
  if (options.signal?.aborted) throw new ApplyError("aborted", [], []);

  const done: FamilyState[] = [];
  for (const state of states) {
    const { exe, rulesText } = state.plan;
    try {
      let first = true;
      await withRetries(
        `${familyTag(exe)} ${exe.restore} --noflush`,
        options,
        retryableApply,
        async () => {
          const live = first ? state.before : await readDump(runner, exe);
          first = false;
          assertSafeToClean(live);
          const input = mergeRestore(planRemoval(live), rulesText);
          if (input === "") return;
          try {
            await restoreOnce(runner, exe, input, options);
          } catch (e) {
            throw await asRejection(runner, exe, input, state.before, e, options.signal);
          }
        },
      );
    } catch (e) {
      const failures = [{
        family: exe.family,
        error: e instanceof Rejected ? e.cause : e as Error,
      }];
      // Refused whole, with this family as it was before the apply: in the
      // first family, nothing changed at all.
      if (e instanceof Rejected && done.length === 0) {
        throw new ApplyError("test_failed", failures, []);
      }
      // This family may have committed some tables before the failing one
      // (a rejected one has not: its rollback finds it unchanged).
      const rollbacks = await rollBackAll(runner, [...done, state], options);
      throw new ApplyError("apply_failed", failures, rollbacks);
    }
    done.push(state);
    if (options.signal?.aborted) {
      throw new ApplyError("aborted", [], await rollBackAll(runner, done, options));
    }
  }
  if (options.persist) {
    try {
      await options.persist();
    } catch (e) {
      throw new ApplyError("persist_failed", [], await rollBackAll(runner, done, options), e);
    }
  }
  return {
    families: states.map((s) => ({
      family: s.plan.exe.family,
      mode: s.plan.exe.mode,
      removed: describeRemoval(planRemoval(s.before)),
    })),
  };
}
