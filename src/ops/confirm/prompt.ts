/**
 * With a terminal on stdin, install --confirm-timeout asks, as
 * iptables-apply does, whether to keep the rules: an answer typed in the
 * same session proves that session survived the apply. `y` confirms at
 * once, anything else rolls back at once; no answer in time leaves the
 * decision to the watcher, which rolls back at the deadline.
 *
 * @module
 */
import { EXIT } from "../exit_codes.ts";
import type { OpsIo } from "../io.ts";
import { formatDuration } from "./duration.ts";

/**
 * Whether an answer keeps the rules: `y` or `yes`, any case; anything
 * else, the empty answer included, does not (the default is No).
 *
 * @example
 * ```ts
 * import { keeps } from "./prompt.ts";
 * if (!keeps(" Y\n") || keeps("") || keeps("no")) throw new Error();
 * ```
 */
export function keeps(answer: string): boolean {
  return /^(y|yes)$/i.test(answer.trim());
}

/**
 * Asks, when `io.ask` exists (stdin is a terminal); returns the exit code
 * when the answer decided, undefined when there was no question or no
 * answer in time.
 */
export async function askToKeep(io: OpsIo, timeoutMs: number): Promise<number | undefined> {
  if (!io.ask) return undefined;
  const answer = await io.ask(
    `keep these rules? [y/N] (no answer within ${formatDuration(timeoutMs)} rolls them back) `,
    timeoutMs,
  );
  if (answer === undefined) return undefined;
  const { rollBackNow, runConfirm } = await import("./confirm.ts");
  if (keeps(answer)) return await runConfirm(io);
  await rollBackNow(io, "not kept at the prompt");
  return EXIT.FAILURE;
}
