/**
 * What a lost output stream does to a run. A finished change must not exit
 * non-zero because stdout went away (`install | true`, `> /dev/full`): its
 * result is in the kernel, not in the report, and a script that retries on
 * failure would run it again. So writes never throw; the first failure is
 * kept and the run decides at the end (`settleOutput`).
 *
 * - stdout, broken pipe: the reader stopped reading (`| head -3`); nothing
 *   is said and the exit code stays, as for a program killed by SIGPIPE
 *   in a shell pipeline, where only the last command's status counts.
 * - stdout, any other error (ENOSPC, EIO): one line on stderr says the
 *   output was lost. install and uninstall keep their exit code (their
 *   result is the change), and so does status (its answer is the code);
 *   for config, completion, --help and --version the output is the result,
 *   so their exit 0 becomes 1.
 * - stderr: messages for people; when they cannot be written, nothing
 *   could report that either, and the exit code still tells.
 *
 * @module
 */
import { EXIT } from "../ops/exit_codes.ts";

/** A text sink that never throws: the first write error is kept and later writes are dropped. */
export interface GuardedOutput {
  write(text: string): void;
  /** The error that ended writing, if one did. */
  failure(): Error | undefined;
}

const encoder = new TextEncoder();

/**
 * Writes text to a stream's synchronous writer, all of it (writeSync may
 * write part), until it fails once.
 *
 * @example
 * ```ts
 * import { guardedOutput } from "./output.ts";
 * const out = guardedOutput({ writeSync: () => { throw new Error("EPIPE"); } });
 * out.write("lost\n");
 * if (out.failure()?.message !== "EPIPE") throw new Error();
 * ```
 */
export function guardedOutput(stream: { writeSync(p: Uint8Array): number }): GuardedOutput {
  let failure: Error | undefined;
  return {
    write(text) {
      if (failure) return;
      let bytes = encoder.encode(text);
      try {
        while (bytes.length > 0) bytes = bytes.subarray(stream.writeSync(bytes));
      } catch (e) {
        failure = e instanceof Error ? e : new Error(String(e));
      }
    },
    failure: () => failure,
  };
}

/** A broken pipe: the reading end is closed (EPIPE). */
export function isBrokenPipe(e: Error): boolean {
  return e.name === "BrokenPipe" || (e as { code?: string }).code === "EPIPE";
}

/**
 * The exit code of a run whose stdout failed with `failure` (see the
 * module doc), and the line to print on stderr, if any. `outputIsResult`:
 * the command was config, completion, --help or --version.
 *
 * @example
 * ```ts
 * import { settleOutput } from "./output.ts";
 * const full = new Error("No space left on device (os error 28)");
 * if (settleOutput(0, full, { outputIsResult: false }).code !== 0) throw new Error();
 * if (settleOutput(0, full, { outputIsResult: true }).code !== 1) throw new Error();
 * ```
 */
export function settleOutput(
  code: number,
  failure: Error | undefined,
  { outputIsResult }: { outputIsResult: boolean },
): { code: number; message?: string } {
  if (!failure || isBrokenPipe(failure)) return { code };
  const message = `could not write the output to stdout: ${failure.message}`;
  return { code: outputIsResult && code === EXIT.OK ? EXIT.FAILURE : code, message };
}
