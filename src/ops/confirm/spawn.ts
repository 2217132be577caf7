/**
 * Starts the watcher of a pending install (watch.ts) so that it outlives
 * the terminal that ran install: a dropped SSH connection is the case the
 * rollback exists for. `setsid` gives it a new session (no controlling
 * terminal, so no SIGHUP when the connection drops), its stdin and
 * stderr are /dev/null (its stdout: one line saying it watches), and it
 * inherits the network namespace, mount namespace and environment of
 * install. It is this same program (`io.selfCommand`: the
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

/** The line the watcher prints on its stdout once it found its record and watches it. */
export const WATCHING = "watching";

/**
 * How long install waits for that line: a compiled binary starts in
 * milliseconds, scripts/kuma-tproxy in a second or two.
 */
const START_MS = 60_000;

/**
 * Starts the watcher for the record `id`; returns its PID once the watcher
 * said it watches. Deno's child is not a process group leader, so setsid(1)
 * calls setsid(2) and execs without forking: the PID is the watcher's.
 * Throws when setsid or the watcher exits first (setsid refused, the
 * program missing or killed), or says nothing in time (then it is killed):
 * an install whose watcher is not running would never be rolled back.
 */
export async function spawnWatcher(io: Pick<OpsIo, "selfCommand">, id: string): Promise<number> {
  const child = new Deno.Command("setsid", {
    args: [...io.selfCommand, WATCH_COMMAND, id],
    cwd: "/",
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  child.status.catch(() => {});
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const said = await Promise.race([
      (async () => {
        let text = "";
        while (!text.includes("\n")) {
          const { value, done } = await reader.read();
          if (done) break;
          text += value;
        }
        return text;
      })(),
      new Promise<undefined>((ok) => timer = setTimeout(() => ok(undefined), START_MS)),
    ]);
    if (said === undefined) {
      child.kill("SIGKILL");
      throw new Error(`it did not start watching within ${START_MS / 1000}s; killed`);
    }
    const first = said.split("\n")[0];
    if (first !== WATCHING) {
      const { code, signal } = await child.status;
      throw new Error(
        `setsid ${io.selfCommand.join(" ")} exited ${signal ?? code} before it watched${
          first ? `: ${first}` : ""
        }`,
      );
    }
  } finally {
    clearTimeout(timer);
    await reader.cancel().catch(() => {});
  }
  // install may exit long before it: never wait for it.
  child.unref();
  return child.pid;
}
