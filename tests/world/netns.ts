/**
 * Throw-away network namespaces for tests. Every namespace gets a unique name
 * so that tests (and developers) running at the same time never share one,
 * and nothing ever runs in the machine's own namespace.
 */
import { NetnsRunner, type RunResult, SystemRunner } from "../../src/os/runner.ts";

const system = new SystemRunner();

/** Runs a command on the host and throws with its stderr if it fails. */
export async function sh(cmd: string, args: string[], stdin?: string): Promise<string> {
  const r = await system.run(cmd, args, { stdin });
  if (r.code !== 0) {
    throw new Error(`${cmd} ${args.join(" ")} exited ${r.code}: ${r.stderr.trim()}`);
  }
  return r.stdout;
}

export class Netns {
  readonly runner: NetnsRunner;
  private constructor(readonly name: string) {
    this.runner = new NetnsRunner(name);
  }

  /** Creates a fresh namespace with `lo` up. Names look like `ktp-<tag>-<random>` (at most 15 chars are not needed: netns names are not interface names). */
  static async create(tag: string): Promise<Netns> {
    const name = `ktp-${tag}-${crypto.randomUUID().slice(0, 8)}`;
    await sh("ip", ["netns", "add", name]);
    const ns = new Netns(name);
    await ns.exec("ip", ["link", "set", "lo", "up"]);
    return ns;
  }

  /** Runs a command inside the namespace; throws if it fails. */
  async exec(cmd: string, args: string[], stdin?: string): Promise<string> {
    const r = await this.run(cmd, args, stdin);
    if (r.code !== 0) {
      throw new Error(
        `[${this.name}] ${cmd} ${args.join(" ")} exited ${r.code}: ${r.stderr.trim()}`,
      );
    }
    return r.stdout;
  }

  /** Runs a command inside the namespace and returns its result, whatever the exit code. */
  run(cmd: string, args: string[], stdin?: string): Promise<RunResult> {
    return this.runner.run(cmd, args, { stdin });
  }

  /** Deletes the namespace. Processes started in it must be killed by the caller first. */
  async destroy(): Promise<void> {
    await system.run("ip", ["netns", "del", this.name]);
  }
}

/** Creates a namespace, runs `fn`, and always deletes the namespace afterwards. */
export async function withNetns<T>(tag: string, fn: (ns: Netns) => Promise<T>): Promise<T> {
  const ns = await Netns.create(tag);
  try {
    return await fn(ns);
  } finally {
    await ns.destroy();
  }
}
