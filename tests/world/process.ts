/**
 * Long-running helper processes (sidecar stand-in, services) started inside a
 * network namespace, optionally as another user. `ip netns exec` and
 * `setpriv` both exec rather than fork, so the PID we hold is the server's
 * own and killing it by PID leaves nothing behind.
 */

/** Interpreter for the helpers: Debian's, because a PATH `python3` may be a root-only shim. */
export const PYTHON = "/usr/bin/python3";

/** The argv prefix that runs a command in `netns` as `uid` (`null`: as root). */
export function inNetnsAs(netns: string, uid: number | null): string[] {
  const user = uid === null
    ? []
    : ["setpriv", `--reuid=${uid}`, `--regid=${uid}`, "--clear-groups", "--"];
  return ["ip", "netns", "exec", netns, ...user];
}

/** A running helper; `stop()` kills it by PID and waits for it. */
export class Helper {
  private stderr = "";
  private readonly drained: Promise<void>;
  private stdoutDrained: Promise<void> = Promise.resolve();
  private stopped = false;

  private constructor(readonly label: string, private readonly child: Deno.ChildProcess) {
    this.drained = this.drainStderr();
  }

  get pid(): number {
    return this.child.pid;
  }

  /**
   * Starts `argv` and resolves once it printed "ready" (all sockets bound),
   * so that no probe races the server's startup.
   */
  static async start(label: string, argv: string[], timeoutMs = 5000): Promise<Helper> {
    const child = new Deno.Command(argv[0], {
      args: argv.slice(1),
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const helper = new Helper(label, child);
    const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    const timer = new Promise<"timeout">((ok) => {
      const id = setTimeout(() => ok("timeout"), timeoutMs);
      child.status.finally(() => clearTimeout(id));
    });
    let seen = "";
    while (!seen.includes("ready\n")) {
      const next = await Promise.race([lines.read(), timer]);
      if (next === "timeout" || next.done) {
        await lines.cancel();
        await helper.stop();
        throw new Error(
          `${label} did not start (${next === "timeout" ? "timed out" : "exited"}): ` +
            `${argv.join(" ")}\n${helper.stderr}`,
        );
      }
      seen += next.value;
    }
    // Nothing else is printed on stdout; drain it anyway so a stray print
    // can never block the server on a full pipe.
    helper.stdoutDrained = (async () => {
      while (!(await lines.read()).done) { /* discard */ }
    })();
    return helper;
  }

  private async drainStderr(): Promise<void> {
    for await (const chunk of this.child.stderr.pipeThrough(new TextDecoderStream())) {
      this.stderr += chunk;
    }
  }

  /** What the helper wrote to stderr so far (for failure messages). */
  get errors(): string {
    return this.stderr;
  }

  /** SIGTERM, then SIGKILL after a second; waits for the exit and the pipes. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    try {
      this.child.kill("SIGTERM");
    } catch { /* already gone */ }
    const killer = setTimeout(() => {
      try {
        this.child.kill("SIGKILL");
      } catch { /* already gone */ }
    }, 1000);
    await this.child.status;
    clearTimeout(killer);
    await Promise.all([this.drained, this.stdoutDrained]);
  }
}
