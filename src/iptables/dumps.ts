/**
 * The plain dumps (`<save>` with no table) of one run, each read once while
 * nothing changes it: detection's backend choice, the nft functionality
 * check, the apply's first read and the removal of earlier installations in
 * the other backend all need the same text, under the same run lock
 * (src/ops/run_lock.ts). Whoever changes a backend takes its dump out
 * ({@linkcode LiveDumps.take}), so a later reader gets a fresh one.
 *
 * @module
 */
import type { Runner } from "../os/runner.ts";
import { type Executables, readDump } from "./executables.ts";
import type { SaveDump } from "./save_parser.ts";

const keyOf = (exe: Executables) => `${exe.mode}/${exe.family}/${exe.save}`;

/**
 * Dumps read on first use and kept until taken or forgotten. A failed read
 * is not kept: the next reader tries again, as it did before dumps were
 * shared.
 *
 * @example
 * ```ts ignore
 * const dumps = new LiveDumps(runner);
 * dumps.prefetch(executables); // read beside other work
 * const before = await dumps.take(v4); // about to change IPv4
 * ```
 */
export class LiveDumps {
  readonly #reads = new Map<string, Promise<SaveDump>>();
  /** Each backend's first read of this run, kept when taken. */
  readonly #first = new Map<string, Promise<SaveDump>>();

  constructor(private readonly runner: Runner) {}

  /** The dump of `exe`, read now or earlier in this run. */
  read(exe: Executables): Promise<SaveDump> {
    const key = keyOf(exe);
    let p = this.#reads.get(key);
    if (!p) {
      const started = readDump(this.runner, exe);
      p = started;
      this.#reads.set(key, p);
      if (!this.#first.has(key)) this.#first.set(key, p);
      // Awaited by whoever reads it; a prefetch nobody reads must not be an
      // unhandled rejection.
      started.catch(() => {
        if (this.#reads.get(key) === started) this.#reads.delete(key);
        if (this.#first.get(key) === started) this.#first.delete(key);
      });
    }
    return p;
  }

  /** Starts reading each dump, without waiting: errors reach whoever reads it. */
  prefetch(exes: readonly Executables[]): void {
    for (const exe of exes) void this.read(exe);
  }

  /**
   * The dump as this run first read it, even when taken since: for a
   * decision made before anything changed the rules (install's `current`,
   * after the pretest took the dumps it tests against), without a second read.
   */
  firstRead(exe: Executables): Promise<SaveDump> {
    return this.#first.get(keyOf(exe)) ?? this.read(exe);
  }

  /** The dump, for a caller about to change that backend: later readers read again. */
  take(exe: Executables): Promise<SaveDump> {
    const p = this.read(exe);
    this.#reads.delete(keyOf(exe));
    return p;
  }

  /** Forgets a dump that no longer shows the backend (a command changed what its save prints). */
  forget(exe: Executables): void {
    this.#reads.delete(keyOf(exe));
    this.#first.delete(keyOf(exe));
  }

  /** Resolves once every read started so far has finished, failed or not. */
  async settled(): Promise<void> {
    await Promise.allSettled(this.#reads.values());
  }

  /** Forgets every dump: something outside this run's own steps changed the rules (firewalld). */
  forgetAll(): void {
    this.#reads.clear();
    this.#first.clear();
  }
}
