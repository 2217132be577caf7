/**
 * A recording fake Runner: every call is kept, and a handler decides the
 * answer. A handler returning undefined means "no such executable", which
 * the real runner reports by rejecting.
 */
import type { Runner, RunOptions, RunResult } from "../../../src/os/runner.ts";

export interface Call {
  cmd: string;
  args: string[];
  stdin?: string;
}

export type Handler = (call: Call) => RunResult | undefined | Promise<RunResult | undefined>;

export class FakeRunner implements Runner {
  readonly calls: Call[] = [];
  constructor(private readonly handler: Handler) {}
  async run(cmd: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
    const call = { cmd, args, stdin: options.stdin };
    this.calls.push(call);
    const r = await this.handler(call);
    if (!r) throw new Deno.errors.NotFound(`Failed to spawn '${cmd}': entity not found`);
    return r;
  }
  /** Calls as `cmd arg...` strings. */
  lines(): string[] {
    return this.calls.map((c) => [c.cmd, ...c.args].join(" "));
  }
}

export const ok = (stdout = ""): RunResult => ({ code: 0, stdout, stderr: "" });
export const fail = (stderr: string, code = 1): RunResult => ({ code, stdout: "", stderr });
