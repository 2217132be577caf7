/** Turning thrown errors into one readable message, with no stack trace unless asked for. */

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

/** The message for stderr; KUMA_TPROXY_DEBUG=1 adds the stack of unexpected errors. */
export function describeError(e: unknown, env: Record<string, string>): string {
  if (!(e instanceof Error)) return String(e);
  const debug = env.KUMA_TPROXY_DEBUG === "1" && !isUserError(e);
  return debug && e.stack ? e.stack : e.message;
}
