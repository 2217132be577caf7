/**
 * Turning thrown errors into one readable message, with no stack trace
 * unless asked for, and into the exit code: {@link exitCodeOf} is the one
 * place that maps an error to one.
 */
import { ConfigError } from "../config/errors.ts";
import { EXIT, type ExitCode } from "./exit_codes.ts";

/** The program's name, and the prefix of every error line: `kuma-tproxy: ...`. */
export const PROGRAM_NAME = "kuma-tproxy";

/** An error whose message is meant for the user as it is (not a bug). */
export class UserError extends Error {
  constructor(message: string, readonly exitCode: ExitCode = EXIT.FAILURE) {
    super(message);
    this.name = "UserError";
  }
}

export function isUserError(e: unknown): e is UserError {
  return e instanceof UserError;
}

/**
 * The exit code of a thrown error, for every command and every path (the
 * command line, a dry run's refusal, `status --json`): a config error is a
 * usage error (2, nothing ran); a UserError carries the code its thrower
 * chose (2 for a usage error it found, else 1); anything else, a layer's
 * refusal or failure (FirewalldError, NftError, ExecError, ...) or a bug,
 * is a failure (1). Never 3 or 4: those are status answers, not errors.
 *
 * @example
 * ```ts
 * import { exitCodeOf, UserError } from "./errors.ts";
 * import { EXIT } from "./exit_codes.ts";
 * if (exitCodeOf(new UserError("bad flag", EXIT.USAGE)) !== 2) throw new Error();
 * if (exitCodeOf(new Error("bug")) !== 1) throw new Error();
 * ```
 */
export function exitCodeOf(e: unknown): ExitCode {
  if (e instanceof ConfigError) return EXIT.USAGE;
  if (e instanceof UserError) return e.exitCode;
  return EXIT.FAILURE;
}

/** The message for stderr; KUMA_TPROXY_DEBUG=1 adds the stack of unexpected errors. */
export function describeError(e: unknown, env: Record<string, string>): string {
  if (!(e instanceof Error)) return String(e);
  const debug = env.KUMA_TPROXY_DEBUG === "1" && !isUserError(e);
  return debug && e.stack ? e.stack : e.message;
}
