/**
 * `--confirm-timeout DURATION`: how long a pending install waits for
 * `kuma-tproxy confirm` before the previous rules come back.
 *
 * @module
 */

/** The shortest window: less could not be confirmed from a second connection. */
export const MIN_CONFIRM_MS = 1_000;
/** The longest: an install left unconfirmed longer is a forgotten one. */
export const MAX_CONFIRM_MS = 3_600_000;

const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/**
 * Parses `text` (`3s`, `90s`, `2m`, `1h`, `1m30s`; a bare number is seconds,
 * as iptables-apply's `-t`) into milliseconds within 1 s .. 1 h. Throws a
 * `RangeError` whose message is the one-line reason.
 *
 * @example
 * ```ts
 * import { parseConfirmTimeout } from "./duration.ts";
 * if (parseConfirmTimeout("2m") !== 120_000) throw new Error();
 * if (parseConfirmTimeout("10") !== 10_000) throw new Error();
 * ```
 */
export function parseConfirmTimeout(text: string): number {
  const t = text.trim();
  let ms: number;
  if (/^\d+$/.test(t)) {
    ms = Number(t) * 1_000;
  } else if (/^(\d+(ms|s|m|h))+$/.test(t)) {
    ms = 0;
    for (const [, n, unit] of t.matchAll(/(\d+)(ms|s|m|h)/g)) ms += Number(n) * UNITS[unit];
  } else {
    throw new RangeError(
      `invalid duration ${JSON.stringify(text)}: use a number with a unit, e.g. 30s, 2m or 1h`,
    );
  }
  if (!Number.isSafeInteger(ms) || ms < MIN_CONFIRM_MS || ms > MAX_CONFIRM_MS) {
    throw new RangeError(`${JSON.stringify(text)} is out of range: it must be from 1s to 1h`);
  }
  return ms;
}

/**
 * A duration as the messages say it: `3s`, `2m`, `1m30s`.
 *
 * @example
 * ```ts
 * import { formatDuration } from "./duration.ts";
 * if (formatDuration(90_000) !== "1m30s") throw new Error();
 * ```
 */
export function formatDuration(ms: number): string {
  let s = Math.round(ms / 1_000);
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  const parts = [h ? `${h}h` : "", m ? `${m}m` : "", s || (!h && !m) ? `${s}s` : ""];
  return parts.join("");
}
