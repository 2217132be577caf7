/**
 * SIGINT and SIGTERM once the new rules are in the kernel. Before that, an
 * interrupt rolls the apply back (old rules). After it, only the removal of
 * what the earlier installation left elsewhere remains (the other backend,
 * our nft table, our iptables rules): rolling that back would take longer
 * and fail in more ways than finishing it, so the switch is finished (new
 * rules), and the message says so. Without a handler registered the signal
 * would end the process with both backends in place.
 *
 * @module
 */
import type { OpsIo } from "./io.ts";
import { warn } from "./log.ts";

/** What the user reads when an interrupt arrives after the new rules were applied. */
export const FINISHING_SWITCH =
  "interrupted after the new rules were applied: finishing the switch (removing the earlier " +
  "installation elsewhere) rather than leaving both in place";

/**
 * Holds SIGINT and SIGTERM until the returned function is called, saying
 * that the switch is being finished. Register it before the apply's own
 * handler goes, so that no signal meets a process without one.
 *
 * @example
 * ```ts ignore
 * const release = holdUntilFinished(io);
 * try { await removeEarlier(); } finally { release(); }
 * ```
 */
export function holdUntilFinished(io: OpsIo): () => void {
  return io.onInterrupt(() => warn(io, FINISHING_SWITCH));
}
