/**
 * The D-Bus boundary to firewalld. {@link FirewalldBus} is all the rest of
 * the layer uses, so unit tests pass a fake; {@link connectFirewalld} is the
 * dbus-next implementation on the system bus, making the calls of
 * bus_api.ts (firewalld.dbus(5)). dbus-next loads as CommonJS, so the CLI
 * imports this module only through connect.ts, and only when there may be a
 * bus to talk to.
 *
 * @module
 */
import dbus from "dbus-next";
import {
  assertAllowedBusAddress,
  callFailed,
  FIREWALLD_CALLS as CALLS,
  FIREWALLD_NAME as NAME,
  FIREWALLD_PATH as PATH,
  type FirewalldCall,
  type FirewalldCallName,
} from "./bus_api.ts";
import type { DirectChain, DirectPassthrough, DirectRule, Ipv } from "./direct_entries.ts";
import { FirewalldError } from "./errors.ts";

/** firewalld's permanent direct config: what `config.direct.getSettings` returns and `update` takes. */
export interface DirectConfig {
  chains: DirectChain[];
  rules: DirectRule[];
  passthroughs: DirectPassthrough[];
}

/** The firewalld operations kuma-tproxy needs. */
export interface FirewalldBus {
  /** firewalld's `state` property (INIT, FAILED or RUNNING), or null when firewalld is not on the bus. */
  state(): Promise<string | null>;
  /** Whether firewalld is on the bus and its state is RUNNING. */
  isRunning(): Promise<boolean>;
  getRuntimeChains(): Promise<DirectChain[]>;
  getRuntimeRules(): Promise<DirectRule[]>;
  getRuntimePassthroughs(): Promise<DirectPassthrough[]>;
  /**
   * firewalld's `version` property (`org.fedoraproject.FirewallD1`,
   * firewalld.dbus(5)), e.g. "2.3.1"; null when firewalld is not on the bus.
   */
  version(): Promise<string | null>;
  addRuntimeChain(chain: DirectChain): Promise<void>;
  addRuntimeRule(rule: DirectRule): Promise<void>;
  removeRuntimeRule(rule: DirectRule): Promise<void>;
  removeRuntimeChain(chain: DirectChain): Promise<void>;
  getPermanent(): Promise<DirectConfig>;
  /** Replaces the whole permanent direct config; firewalld rewrites direct.xml (keeping direct.xml.old). */
  updatePermanent(config: DirectConfig): Promise<void>;
  /** `firewall-cmd --reload`: permanent config becomes runtime config. */
  reload(): Promise<void>;
  /** Closes the connection so that the process can exit. */
  close(): void;
}

/**
 * bus_api.ts names the one-call operations itself (so it need not import
 * this module); this fails to compile unless they are exactly the
 * operations of {@link FirewalldBus} but these four.
 */
type OneCallOperation = Exclude<keyof FirewalldBus, "state" | "isRunning" | "version" | "close">;
const _sameOperations: [OneCallOperation, FirewalldCallName] extends
  [FirewalldCallName, OneCallOperation] ? true : never = true;

/** Options of {@link connectFirewalld}. */
export interface ConnectOptions {
  /**
   * Bus address: the caller's `DBUS_SYSTEM_BUS_ADDRESS`, else
   * `DEFAULT_SYSTEM_BUS_ADDRESS` (bus_api.ts). Passed in, so that only src/main.ts
   * reads the environment.
   */
  address: string;
  /** How long one call may take before it fails (a reload can take seconds). Default 120000. */
  timeoutMs?: number;
  /**
   * How long `state()` may take: the bus's own NameHasOwner and firewalld's
   * `state` property, which answer at once on a healthy host. A bus that
   * accepts the connection and never answers must not hold every run for
   * `timeoutMs` (issue 22 item 6). Default `timeoutMs`.
   */
  probeTimeoutMs?: number;
}

/**
 * Connects to firewalld over D-Bus with dbus-next. The connection is opened
 * lazily; call `close()` when done.
 * `allowedOnly` refuses an address outside `ALLOWED_BUS_SOCKETS` (bus_api.ts)
 * (the binary's permissions) with a `bus_address` error before connecting.
 */
export function connectFirewalld(
  options: ConnectOptions & { allowedOnly?: boolean },
): FirewalldBus {
  if (options.allowedOnly) assertAllowedBusAddress(options.address);
  const timeoutMs = options.timeoutMs ?? 120_000;
  return new DbusFirewalldBus(options.address, timeoutMs, options.probeTimeoutMs ?? timeoutMs);
}

/** A call that got no reply in time (mapped to a `bus_timeout` error). */
class NoReply extends Error {
  constructor(readonly ms: number) {
    super(`no reply within ${Number((ms / 1000).toFixed(3))} s`);
  }
}

type Tuple = unknown[];

class DbusFirewalldBus implements FirewalldBus {
  #bus: dbus.MessageBus;
  #broken: Promise<never>;
  #connectError: unknown = null;

  constructor(
    readonly address: string,
    private readonly timeoutMs: number,
    private readonly probeTimeoutMs: number,
  ) {
    // dbus-next's sessionBus() is the only public factory that takes an
    // address; systemBus() would read DBUS_SYSTEM_BUS_ADDRESS itself.
    this.#bus = dbus.sessionBus({ busAddress: address });
    // A failed connect is only reported as an 'error' event; pending calls
    // would never settle (checked with dbus-next 0.10.2), so every call races it.
    this.#broken = new Promise<never>((_, reject) => {
      this.#bus.on("error", (e: unknown) => {
        this.#connectError = e;
        reject(e);
      });
    });
    this.#broken.catch(() => {});
  }

  async state(): Promise<string | null> {
    let owned: boolean;
    try {
      [owned] = await this.#call(
        "org.freedesktop.DBus",
        "/org/freedesktop/DBus",
        "org.freedesktop.DBus",
        "NameHasOwner",
        "s",
        [NAME],
        this.probeTimeoutMs,
      ) as [boolean];
    } catch (e) {
      // No system bus at all means no firewalld either.
      if (this.#connectError !== null) return null;
      throw e;
    }
    if (!owned) return null;
    const [variant] = await this.#firewalld(
      { path: PATH, iface: "org.freedesktop.DBus.Properties", member: "Get", signature: "ss" },
      [NAME, "state"],
      this.probeTimeoutMs,
    ) as [dbus.Variant<string>];
    return variant.value;
  }

  async isRunning(): Promise<boolean> {
    return (await this.state()) === "RUNNING";
  }

  async version(): Promise<string | null> {
    if ((await this.state()) === null) return null;
    const [variant] = await this.#firewalld(
      { path: PATH, iface: "org.freedesktop.DBus.Properties", member: "Get", signature: "ss" },
      [NAME, "version"],
    ) as [dbus.Variant<string>];
    return variant.value;
  }

  async getRuntimeChains(): Promise<DirectChain[]> {
    const [chains] = await this.#firewalld(CALLS.getRuntimeChains) as [Tuple[]];
    return chains.map(toChain);
  }

  async getRuntimeRules(): Promise<DirectRule[]> {
    const [rules] = await this.#firewalld(CALLS.getRuntimeRules) as [Tuple[]];
    return rules.map(toRule);
  }

  async getRuntimePassthroughs(): Promise<DirectPassthrough[]> {
    const [passthroughs] = await this.#firewalld(CALLS.getRuntimePassthroughs) as [Tuple[]];
    return passthroughs.map(toPassthrough);
  }

  async addRuntimeChain(c: DirectChain): Promise<void> {
    await this.#firewalld(CALLS.addRuntimeChain, [c.ipv, c.table, c.chain]);
  }

  async addRuntimeRule(r: DirectRule): Promise<void> {
    await this.#firewalld(CALLS.addRuntimeRule, ruleTuple(r));
  }

  async removeRuntimeRule(r: DirectRule): Promise<void> {
    await this.#firewalld(CALLS.removeRuntimeRule, ruleTuple(r));
  }

  async removeRuntimeChain(c: DirectChain): Promise<void> {
    await this.#firewalld(CALLS.removeRuntimeChain, [c.ipv, c.table, c.chain]);
  }

  async getPermanent(): Promise<DirectConfig> {
    const [[chains, rules, passthroughs]] = await this.#firewalld(CALLS.getPermanent) as [
      [Tuple[], Tuple[], Tuple[]],
    ];
    return {
      chains: chains.map(toChain),
      rules: rules.map(toRule),
      passthroughs: passthroughs.map(toPassthrough),
    };
  }

  async updatePermanent(config: DirectConfig): Promise<void> {
    const settings = [
      config.chains.map((c) => [c.ipv, c.table, c.chain]),
      config.rules.map(ruleTuple),
      config.passthroughs.map((p) => [p.ipv, p.args]),
    ];
    await this.#firewalld(CALLS.updatePermanent, [settings]);
  }

  async reload(): Promise<void> {
    await this.#firewalld(CALLS.reload);
  }

  close(): void {
    this.#bus.disconnect();
  }

  #firewalld(call: FirewalldCall, body: unknown[] = [], timeoutMs?: number): Promise<unknown[]> {
    return this.#call(NAME, call.path, call.iface, call.member, call.signature, body, timeoutMs);
  }

  async #call(
    destination: string,
    path: string,
    iface: string,
    member: string,
    signature = "",
    body: unknown[] = [],
    timeoutMs = this.timeoutMs,
  ): Promise<unknown[]> {
    const operation = `${iface}.${member}`;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new NoReply(timeoutMs)), timeoutMs);
    });
    try {
      const message = new dbus.Message({
        destination,
        path,
        interface: iface,
        member,
        signature,
        body,
      });
      const reply = await Promise.race([this.#bus.call(message), this.#broken, timeout]);
      return reply?.body ?? [];
    } catch (e) {
      throw busError(operation, this.address, e);
    } finally {
      clearTimeout(timer);
    }
  }
}

function toChain([ipv, table, chain]: Tuple): DirectChain {
  return { kind: "chain", ipv: ipv as Ipv, table: table as string, chain: chain as string };
}

function toRule([ipv, table, chain, priority, args]: Tuple): DirectRule {
  return {
    kind: "rule",
    ipv: ipv as Ipv,
    table: table as string,
    chain: chain as string,
    priority: Number(priority),
    args: args as string[],
  };
}

function toPassthrough([ipv, args]: Tuple): DirectPassthrough {
  return { kind: "passthrough", ipv: ipv as Ipv, args: args as string[] };
}

function ruleTuple(r: DirectRule): Tuple {
  return [r.ipv, r.table, r.chain, r.priority, r.args];
}

/** firewalld's D-Bus errors read `CODE: details` (e.g. `COMMAND_FAILED: '/usr/sbin/iptables-restore -w -n' failed: ...`). */
function busError(operation: string, address: string, e: unknown): FirewalldError {
  if (e instanceof NoReply) {
    return new FirewalldError(
      "bus_timeout",
      `D-Bus call ${operation} on ${address} got ${e.message}`,
      { operation, cause: e },
    );
  }
  if (e instanceof dbus.DBusError) {
    const text = e.text ?? e.message;
    const code = /^([A-Z_]+)(:|$)/.exec(text)?.[1];
    return new FirewalldError("bus", `firewalld refused ${operation}: ${text.trim()}`, {
      operation,
      firewalldCode: code,
      cause: e,
    });
  }
  return callFailed(operation, address, e instanceof Error ? e.message : String(e), e);
}
