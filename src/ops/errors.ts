/** Turning thrown errors into one readable message, with no stack trace unless asked for. */
import { ConfigError } from "../config/errors.ts";
import { EXIT } from "./exit_codes.ts";

/** The program's name, and the prefix of every error line: `kuma-tproxy: ...`. */
export const PROGRAM_NAME = "kuma-tproxy";

/** An error whose message is meant for the user as it is (not a bug). */
export class UserError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
    this.name = "UserError";
  }
}

export function isUserError(e: unknown): e is UserError {
  return e instanceof UserError;
}

/** The exit code of a thrown error: 2 for a config error, a UserError's own, else 1. */
export function exitCodeOf(e: unknown): number {
  if (e instanceof ConfigError) return EXIT.USAGE;
  return isUserError(e) ? e.exitCode : EXIT.FAILURE;
}

/** The message for stderr; KUMA_TPROXY_DEBUG=1 adds the stack of unexpected errors. */
export function describeError(e: unknown, env: Record<string, string>): string {
  if (!(e instanceof Error)) return String(e);
  const debug = env.KUMA_TPROXY_DEBUG === "1" && !isUserError(e);
  return debug && e.stack ? e.stack : e.message;
}
