/** An in-memory firewalld for unit tests: keeps permanent and runtime direct config and records calls. */
import type { DirectConfig, FirewalldBus } from "../../../src/firewalld/bus.ts";
import {
  type DirectChain,
  type DirectPassthrough,
  type DirectRule,
  sameEntry,
} from "../../../src/firewalld/direct_entries.ts";
import { FirewalldError } from "../../../src/firewalld/errors.ts";
import type { Runner, RunOptions, RunResult } from "../../../src/os/runner.ts";

export class FakeBus implements FirewalldBus {
  calls: string[] = [];
  closed = false;
  runtimeChains: DirectChain[] = [];
  runtimeRules: DirectRule[] = [];
  runtimePassthroughs: DirectPassthrough[] = [];
  /** firewalld's `version` property while it is on the bus. */
  firewalldVersion = "1.3.3";
  /** Makes the matching call fail like firewalld's COMMAND_FAILED. */
  failOn: (op: string, arg?: unknown) => boolean = () => false;

  constructor(
    public permanent: DirectConfig = { chains: [], rules: [], passthroughs: [] },
    public currentState: string | null = "RUNNING",
  ) {}

  #op(op: string, arg?: unknown): void {
    this.calls.push(op);
    if (this.failOn(op, arg)) {
      throw new FirewalldError("bus", `firewalld refused ${op}: COMMAND_FAILED: injected`, {
        operation: op,
        firewalldCode: "COMMAND_FAILED",
      });
    }
  }
  state() {
    return Promise.resolve(this.currentState);
  }
  async isRunning() {
    return (await this.state()) === "RUNNING";
  }
  getRuntimeChains() {
    return Promise.resolve(structuredClone(this.runtimeChains));
  }
  getRuntimeRules() {
    return Promise.resolve(structuredClone(this.runtimeRules));
  }
  getRuntimePassthroughs() {
    return Promise.resolve(structuredClone(this.runtimePassthroughs));
  }
  version() {
    return Promise.resolve(this.currentState === null ? null : this.firewalldVersion);
  }
  addRuntimeChain(c: DirectChain) {
    this.#op("addChain", c);
    if (this.runtimeChains.some((x) => sameEntry(x, c))) throw new Error("ALREADY_ENABLED");
    this.runtimeChains.push(structuredClone(c));
    return Promise.resolve();
  }
  addRuntimeRule(r: DirectRule) {
    this.#op("addRule", r);
    if (this.runtimeRules.some((x) => sameEntry(x, r))) throw new Error("ALREADY_ENABLED");
    this.runtimeRules.push(structuredClone(r));
    return Promise.resolve();
  }
  removeRuntimeRule(r: DirectRule) {
    this.#op("removeRule", r);
    const i = this.runtimeRules.findIndex((x) => sameEntry(x, r));
    if (i < 0) throw new Error("NOT_ENABLED");
    this.runtimeRules.splice(i, 1);
    return Promise.resolve();
  }
  removeRuntimeChain(c: DirectChain) {
    this.#op("removeChain", c);
    const i = this.runtimeChains.findIndex((x) => sameEntry(x, c));
    if (i < 0) throw new Error("NOT_ENABLED");
    if (
      this.runtimeRules.some((r) => r.table === c.table && r.ipv === c.ipv && r.chain === c.chain)
    ) {
      throw new Error("chain still has rules");
    }
    this.runtimeChains.splice(i, 1);
    return Promise.resolve();
  }
  getPermanent() {
    return Promise.resolve(structuredClone(this.permanent));
  }
  updatePermanent(config: DirectConfig) {
    this.#op("update", config);
    this.permanent = structuredClone(config);
    return Promise.resolve();
  }
  reload() {
    this.#op("reload");
    return Promise.resolve();
  }
  close() {
    this.closed = true;
  }
}

/** A runner that records commands and answers with a fixed result. */
export class FakeRunner implements Runner {
  runs: { cmd: string; args: string[]; stdin?: string }[] = [];
  constructor(private readonly result: RunResult = { code: 0, stdout: "", stderr: "" }) {}
  run(cmd: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
    this.runs.push({ cmd, args, stdin: options.stdin });
    return Promise.resolve(this.result);
  }
}
