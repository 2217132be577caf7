/**
 * The one boundary through which kuma-tproxy runs commands. Unit tests pass a
 * recording fake; integration tests pass a runner that enters a test network
 * namespace; production uses SystemRunner.
 */

export interface RunOptions {
  /** Written to the command's stdin (iptables-restore input is never put in a temp file). */
  stdin?: string;
  env?: Record<string, string>;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface Runner {
  /** Runs `cmd args...` to completion. Resolves with the exit code; rejects only if the command cannot be started. */
  run(cmd: string, args: string[], options?: RunOptions): Promise<RunResult>;
}

/**
 * Writes `text` to a child's stdin and closes it. A command may exit without
 * reading all of its input (a failing iptables-restore stops at the first bad
 * line); its exit code and stderr are the evidence, so a broken pipe must not
 * replace them.
 */
export async function writeStdin(child: Deno.ChildProcess, text: string): Promise<void> {
  const writer = child.stdin.getWriter();
  try {
    await writer.write(new TextEncoder().encode(text));
    await writer.close();
  } catch (e) {
    if (!(e instanceof Deno.errors.BrokenPipe)) throw e;
  }
}

/** Runs commands on this host with Deno.Command. */
export class SystemRunner implements Runner {
  async run(cmd: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
    const child = new Deno.Command(cmd, {
      args,
      stdin: options.stdin === undefined ? "null" : "piped",
      stdout: "piped",
      stderr: "piped",
      env: options.env,
    }).spawn();
    if (options.stdin !== undefined) await writeStdin(child, options.stdin);
    const out = await child.output();
    const decoder = new TextDecoder();
    return {
      code: out.code,
      stdout: decoder.decode(out.stdout),
      stderr: decoder.decode(out.stderr),
    };
  }
}

/** Wraps another runner so that every command runs inside a named network namespace (tests). */
export class NetnsRunner implements Runner {
  constructor(readonly netns: string, private readonly inner: Runner = new SystemRunner()) {}
  run(cmd: string, args: string[], options?: RunOptions): Promise<RunResult> {
    return this.inner.run("ip", ["netns", "exec", this.netns, cmd, ...args], options);
  }
}
