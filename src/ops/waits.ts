/**
 * How long a run waits for things outside it, so that no run waits for
 * ever (issue 22 item 6): a process that holds the run lock and never lets
 * go, or a system bus that accepts a connection and never answers. At boot
 * a wait without end would hold the network (and SSH) down until systemd's
 * start timeout of the unit.
 *
 * `--wait` is not used for these: it is the xtables lock's, per iptables
 * command, 5 s by default and 0 for "do not wait", while the run lock
 * covers a whole run of the tool, which another run may hold for seconds.
 *
 * @module
 */
import { EXIT } from "./exit_codes.ts";
import { UserError } from "./errors.ts";

/** Seconds a run waits for another one to release the run lock (run_lock.ts). */
export const LOCK_WAIT_SECONDS = 60;

/**
 * Seconds the system bus (and firewalld's `state` property) may take to
 * answer whether firewalld runs. A healthy bus answers in milliseconds;
 * firewalld's own calls keep their longer limit (FIREWALLD_CALL_SECONDS).
 */
export const BUS_PROBE_SECONDS = 5;

/** Seconds one call to firewalld may take (a reload of a large config can take many). */
export const FIREWALLD_CALL_SECONDS = 120;

/** The environment variables that change the limits above (seconds, decimals allowed). */
export const LOCK_WAIT_ENV = "KUMA_TPROXY_LOCK_TIMEOUT";
export const BUS_PROBE_ENV = "KUMA_TPROXY_BUS_TIMEOUT";

export interface WaitLimits {
  lockMs: number;
  busProbeMs: number;
}

/**
 * The limits, from the environment or the defaults. A value that is not a
 * positive number of seconds is a usage error.
 *
 * @example
 * ```ts
 * import { waitLimits } from "./waits.ts";
 * const w = waitLimits({ KUMA_TPROXY_LOCK_TIMEOUT: "0.5" });
 * if (w.lockMs !== 500 || w.busProbeMs !== 5000) throw new Error(JSON.stringify(w));
 * ```
 */
export function waitLimits(env: Record<string, string>): WaitLimits {
  return {
    lockMs: seconds(env, LOCK_WAIT_ENV, LOCK_WAIT_SECONDS) * 1000,
    busProbeMs: seconds(env, BUS_PROBE_ENV, BUS_PROBE_SECONDS) * 1000,
  };
}

function seconds(env: Record<string, string>, name: string, fallback: number): number {
  const text = env[name];
  if (text === undefined || text === "") return fallback;
  const n = Number(text);
  if (!/^\s*\d+(\.\d+)?\s*$/.test(text) || !(n > 0) || n > 86_400) {
    throw new UserError(
      `${name}=${JSON.stringify(text.slice(0, 40))} is not a number of seconds ` +
        "(expected a positive number, at most 86400)",
      EXIT.USAGE,
    );
  }
  return n;
}

/** "60 s", "0.5 s". */
export function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))} s`;
}
