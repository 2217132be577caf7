/**
 * Starts the watcher of a pending install (watch.ts) so that it outlives
 * the terminal that ran install: a dropped SSH connection is the case the
 * rollback exists for. `setsid` gives it a new session (no controlling
 * terminal, so no SIGHUP when the connection drops), its stdio is
 * /dev/null, and it inherits the network namespace, mount namespace and
 * environment of install. It is this same program (`io.selfCommand`: the
 * binary, or scripts/kuma-tproxy from source) with the hidden command
 * `confirm-watch`. Without systemd as PID 1 (containers, the tests'
 * namespaces) this works as well as with it, which a transient systemd
 * timer would not (docs/decisions.md#d5).
 *
 * @module
 */
import type { OpsIo } from "../io.ts";

/** The hidden command the watcher runs as. */
export const WATCH_COMMAND = "confirm-watch";

/**
 * Starts the watcher for the record `id`; returns its PID. Deno's child is
 * not a process group leader, so setsid(1) calls setsid(2) and execs without
 * forking: the PID is the watcher's.
 */
export function spawnWatcher(io: Pick<OpsIo, "selfCommand">, id: string): number {
  const child = new Deno.Command("setsid", {
    args: [...io.selfCommand, WATCH_COMMAND, id],
    cwd: "/",
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  // install may exit long before it: never wait for it.
  child.unref();
  child.status.catch(() => {});
  return child.pid;
}
