/**
 * What an `nft -f` that failed left behind. A failed exit does not prove
 * that nothing changed: nft commits the whole batch in the kernel before it
 * exits, so nft killed after the commit (SIGKILL, SIGINT to the process
 * group, the OOM killer) exits non-zero with the new table live. The caller
 * reads our table again and judges here, before it reports anything.
 *
 * @module
 */

/** `unchanged`: as before the run; `applied`: as the script made it; `other`: neither. */
export type NftOutcome = "unchanged" | "applied" | "other";

/**
 * Judges the table after a failed `nft -f`.
 *
 * @param before our table's `nft list table` text before the run; undefined: there was none
 * @param now the same read after the run
 * @param asPlanned whether the table now is what the script makes (read as status reads it)
 *
 * @example
 * ```ts
 * import { judgeNftOutcome } from "./outcome.ts";
 * if (judgeNftOutcome(undefined, undefined, false) !== "unchanged") throw new Error();
 * if (judgeNftOutcome(undefined, "table inet t {}", true) !== "applied") throw new Error();
 * if (judgeNftOutcome("a", "b", false) !== "other") throw new Error();
 * ```
 */
export function judgeNftOutcome(
  before: string | undefined,
  now: string | undefined,
  asPlanned: boolean,
): NftOutcome {
  // As before comes first: a run that would not have changed anything changed nothing.
  if (now === before) return "unchanged";
  return asPlanned ? "applied" : "other";
}

/** What a failed nft's exit code says: 128 + N is signal N (as the shell reports it). */
export function describeNftExit(code: number): string {
  const signals: Record<number, string> = { 2: "SIGINT", 9: "SIGKILL", 15: "SIGTERM" };
  return code > 128 && code - 128 in signals
    ? `nft was killed by ${signals[code - 128]}`
    : `nft exited ${code}`;
}

/** Whether nft died of SIGINT or SIGTERM: a Ctrl-C or a stop that reached it, as it reaches us. */
export function interruptedBySignal(code: number): boolean {
  return code === 128 + 2 || code === 128 + 15;
}

/**
 * Whether two per-family line maps (`liveLines`, `expectedLines`) are equal.
 *
 * @example
 * ```ts
 * import { sameLines } from "./outcome.ts";
 * const a = new Map([[4, new Map([["chain X", ["r"]]])]]);
 * if (!sameLines(a, new Map([[4, new Map([["chain X", ["r"]]])]]))) throw new Error();
 * if (sameLines(a, new Map())) throw new Error();
 * ```
 */
export function sameLines(
  a: Map<number, Map<string, string[]>>,
  b: Map<number, Map<string, string[]>>,
): boolean {
  const flat = (m: Map<number, Map<string, string[]>>) =>
    JSON.stringify(
      [...m].sort(([x], [y]) => x - y).map(([f, lines]) => [f, [...lines].sort()]),
    );
  return flat(a) === flat(b);
}
