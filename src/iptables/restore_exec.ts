/**
 * Running iptables-restore: lock-wait flags and retries. Input always goes
 * through stdin, never a temp file.
 */
import { ExecError } from "./errors.ts";
import type { Executables } from "./executables.ts";
import type { Runner } from "../os/runner.ts";

/** Lock and retry settings, from the config (`wait`, `waitInterval`, `retry`). */
export interface RestoreOptions {
  /** Seconds to wait for the xtables lock; 0 passes no flag. */
  wait: number;
  /** Microseconds between lock attempts; 0 passes no flag. */
  waitInterval: number;
  /** Retries after the first attempt. */
  maxRetries: number;
  sleepMs: number;
  /** Injected so that unit tests do not sleep. */
  sleep?: (ms: number) => Promise<void>;
  log?: (line: string) => void;
}

/**
 * Lock flags for a restore run. Only legacy takes the xtables lock; nft
 * restores are atomic netlink batches. 0 means no flag: kumactl behaves so,
 * though its docs say "0 waits forever" (kumactl quirk K8.9, docs/kumactl.md#k8-9). `=` is required
 * (kumactl PR #8364: `-w N` is not accepted).
 *
 * @example
 * ```ts
 * import { waitFlags } from "./restore_exec.ts";
 * if (waitFlags("legacy", 5, 0).join(" ") !== "--wait=5") throw new Error();
 * if (waitFlags("nft", 5, 10).length !== 0) throw new Error();
 * ```
 */
export function waitFlags(mode: Executables["mode"], wait: number, waitInterval: number): string[] {
  if (mode !== "legacy") return [];
  return [
    ...(wait > 0 ? [`--wait=${wait}`] : []),
    ...(waitInterval > 0 ? [`--wait-interval=${waitInterval}`] : []),
  ];
}

/** The prefix of log lines for a family, as kumactl prints it. */
export function familyTag(exe: Executables): string {
  return exe.family === 4 ? "[iptables]" : "[ip6tables]";
}

/**
 * Runs `<restore> [wait flags] --noflush [--test]` once with `input` on
 * stdin. Throws {@linkcode ExecError}, quoting the input line iptables blames.
 */
export async function restoreOnce(
  runner: Runner,
  exe: Executables,
  input: string,
  options: { wait: number; waitInterval: number; test?: boolean },
): Promise<void> {
  const args = [
    ...waitFlags(exe.mode, options.wait, options.waitInterval),
    "--noflush",
    ...(options.test ? ["--test"] : []),
  ];
  const command = [exe.restore, ...args];
  let r;
  try {
    r = await runner.run(exe.restore, args, { stdin: input });
  } catch (e) {
    throw new ExecError({ command, exitCode: -1, stderr: String(e), input, code: "not_found" });
  }
  if (r.code !== 0) throw new ExecError({ command, exitCode: r.code, stderr: r.stderr, input });
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Calls `attempt` up to `maxRetries + 1` times, sleeping between attempts,
 * while it throws an {@linkcode ExecError} that `retryable` accepts. The last
 * error is rethrown.
 */
export async function withRetries<T>(
  label: string,
  options: RestoreOptions,
  retryable: (e: ExecError) => boolean,
  attempt: () => Promise<T>,
): Promise<T> {
  const total = options.maxRetries + 1;
  const sleep = options.sleep ?? defaultSleep;
  for (let n = 1;; n++) {
    try {
      options.log?.(`${label} [${n}/${total}]`);
      return await attempt();
    } catch (e) {
      if (!(e instanceof ExecError) || !retryable(e) || n >= total) throw e;
      options.log?.(`${label} [${n}/${total}] failed: ${e.stderr.trim().split("\n").join(", ")}`);
      options.log?.(`${label} [${n}/${total}] will try again in ${options.sleepMs}ms`);
      await sleep(options.sleepMs);
    }
  }
}

/**
 * Failures worth another attempt when each attempt re-reads the live rules:
 * a held lock, or a rule that changed under us between save and restore.
 * Missing permissions or executables do not go away by waiting.
 */
export function retryableApply(e: ExecError): boolean {
  return e.code !== "permission" && e.code !== "not_found";
}

/** For fixed input (`--test`) only a held lock can clear up. */
export function retryableTest(e: ExecError): boolean {
  return e.code === "lock_held";
}
