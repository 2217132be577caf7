/**
 * Checks every command makes before it touches the host, shared so that
 * each command words them alike.
 *
 * @module
 */
import type { OpsIo } from "./io.ts";
import { UserError } from "./errors.ts";
import { warn } from "./log.ts";

/** Options of {@link requireRoot}. */
export interface RootOptions {
  /**
   * The command can run as a dry run: a dry run needs no root (it only
   * warns), and the error points to `--dry-run`.
   */
  dryRun?: { enabled: boolean };
  /** Why root is needed, when that is not obvious (status only reads). */
  why?: string;
}

/**
 * Throws a `UserError` (exit 1) unless the process runs as root. A dry run
 * passes with a warning: it cannot probe the iptables backend.
 *
 * @example
 * ```ts
 * import { requireRoot } from "./preconditions.ts";
 * import type { OpsIo } from "./io.ts";
 * const io = { uid: () => 1000, err: () => {} } as unknown as OpsIo;
 * try {
 *   requireRoot(io, "status", { why: "iptables-save cannot read the rules" });
 *   throw new Error("passed");
 * } catch (e) {
 *   if (!(e as Error).message.startsWith("status needs root privileges: iptables-save")) throw e;
 * }
 * ```
 */
export function requireRoot(io: OpsIo, what: string, options: RootOptions = {}): void {
  if (io.uid() === 0) return;
  if (options.dryRun?.enabled) {
    warn(io, "[dry-run] running as a non-root user: the iptables backend cannot be probed");
    return;
  }
  const why = options.why ? `: ${options.why}` : "";
  const dryRun = options.dryRun ? ", or add --dry-run to only show what it would do" : "";
  throw new UserError(`${what} needs root privileges${why}; run it as root${dryRun}`);
}
