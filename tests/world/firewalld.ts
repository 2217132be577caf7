/**
 * A real firewalld for tests, isolated from the machine: its own network
 * namespace, its own D-Bus daemon on a socket in a temp dir (firewalld then
 * authorizes callers by UID 0, no polkit), and its own config directory via
 * `firewalld --system-config DIR` (firewall/config `set_system_config_paths`
 * moves firewalld.conf, direct.xml and the rest under DIR), so no mount
 * namespace is needed and /etc/firewalld is never touched. The tool is
 * pointed at DIR/direct.xml through its `directXmlPath` option.
 *
 * firewalld.conf is the stock one with `DefaultZone=trusted` (so firewalld's
 * zone rules do not reject test traffic) and, when asked, `RFC3964_IPv4`.
 */
import { connectFirewalld, type FirewalldBus } from "../../src/firewalld/bus.ts";
import type { RunResult } from "../../src/os/runner.ts";
import { Netns } from "./netns.ts";

export interface FirewalldWorldOptions {
  /** Tag in the namespace name. */
  tag?: string;
  /** Sets RFC3964_IPv4 in firewalld.conf; stock (yes) when omitted. */
  rfc3964Ipv4?: boolean;
  /** Initial direct.xml content; none when omitted. */
  directXml?: string;
  /** Sets FirewallBackend in firewalld.conf; stock (nftables) when omitted. */
  firewallBackend?: "nftables" | "iptables";
  /**
   * Run firewalld in this existing namespace (e.g. a traffic World's host)
   * instead of a new one; the caller owns it and `cleanup()` leaves it.
   */
  ns?: Netns;
}

const STOCK_CONF = "/etc/firewalld/firewalld.conf";
const IPTABLES = ["iptables-nft", "ip6tables-nft", "iptables-legacy", "ip6tables-legacy"];
const TABLES = ["filter", "nat", "mangle", "raw", "security"];

export class FirewalldWorld {
  #firewalld: Deno.ChildProcess | null = null;
  /** What the running (or last) firewalld wrote to stderr. */
  #stderr = "";
  /** Ends when firewalld's stderr is closed (it exited). */
  #drained: Promise<void> = Promise.resolve();
  #dbus: Deno.ChildProcess | null = null;

  /** FirewallBackend of its firewalld.conf. */
  backend: "nftables" | "iptables" = "nftables";

  private constructor(
    readonly ns: Netns,
    /** Temp dir holding the bus socket, logs and the config dir. */
    readonly dir: string,
    /** Whether `cleanup()` deletes the namespace (false when it was borrowed). */
    readonly ownsNs = true,
  ) {}

  /** firewalld's config directory (what /etc/firewalld is on a host). */
  get configDir(): string {
    return `${this.dir}/etc`;
  }
  get directXmlPath(): string {
    return `${this.configDir}/direct.xml`;
  }
  get firewalldConfPath(): string {
    return `${this.configDir}/firewalld.conf`;
  }
  /** The private bus; set it as DBUS_SYSTEM_BUS_ADDRESS for child processes. */
  get busAddress(): string {
    return `unix:path=${this.dir}/bus`;
  }
  get env(): Record<string, string> {
    return { DBUS_SYSTEM_BUS_ADDRESS: this.busAddress };
  }
  get netns(): string {
    return this.ns.name;
  }

  /** Creates the namespace, config dir and private bus. firewalld is not started. */
  static async create(options: FirewalldWorldOptions = {}): Promise<FirewalldWorld> {
    const ns = options.ns ?? await Netns.create(options.tag ?? "fw");
    const dir = await Deno.makeTempDir({ prefix: "ktp-firewalld-" });
    const world = new FirewalldWorld(ns, dir, options.ns === undefined);
    try {
      await Deno.mkdir(world.configDir, { mode: 0o750 });
      let conf = (await Deno.readTextFile(STOCK_CONF)).replace(
        /^DefaultZone=.*$/m,
        "DefaultZone=trusted",
      );
      if (options.rfc3964Ipv4 !== undefined) {
        const line = `RFC3964_IPv4=${options.rfc3964Ipv4 ? "yes" : "no"}`;
        conf = /^RFC3964_IPv4=/m.test(conf)
          ? conf.replace(/^RFC3964_IPv4=.*$/m, line)
          : `${conf}\n${line}\n`;
      }
      if (options.firewallBackend !== undefined) {
        conf = conf.replace(/^FirewallBackend=.*$/m, `FirewallBackend=${options.firewallBackend}`);
        if (!conf.includes(`FirewallBackend=${options.firewallBackend}`)) {
          conf += `\nFirewallBackend=${options.firewallBackend}\n`;
        }
      }
      world.backend = /^FirewallBackend=iptables\s*$/m.test(conf) ? "iptables" : "nftables";
      await Deno.writeTextFile(world.firewalldConfPath, conf);
      if (options.directXml !== undefined) {
        await Deno.writeTextFile(world.directXmlPath, options.directXml);
      }
      await world.#startBus();
    } catch (e) {
      await world.cleanup();
      throw e;
    }
    return world;
  }

  async #startBus(): Promise<void> {
    this.#dbus = this.#spawn("dbus-daemon", [
      "--config-file=/usr/share/dbus-1/session.conf",
      `--address=${this.busAddress}`,
      "--nofork",
      "--nopidfile",
    ]);
    await waitFor("the private dbus-daemon", async () => {
      try {
        return (await Deno.stat(`${this.dir}/bus`)).isSocket === true;
      } catch {
        return false;
      }
    });
  }

  #spawn(cmd: string, args: string[], stderr: "null" | "piped" = "null"): Deno.ChildProcess {
    return new Deno.Command("ip", {
      args: ["netns", "exec", this.ns.name, cmd, ...args],
      env: this.env,
      stdin: "null",
      stdout: "null",
      stderr,
    }).spawn();
  }

  /** Whether this firewalld has `--log-target` (1.0+), from its `--help`, run in the namespace. */
  async #knowsLogTarget(): Promise<boolean> {
    const help = await this.ns.runner.run("firewalld", ["--help"]);
    return help.stdout.includes("--log-target");
  }

  /** Starts firewalld and waits until it has finished starting; returns its state (`running` or `failed`). */
  async start(): Promise<string> {
    if (this.#firewalld) throw new Error("firewalld is already running");
    // firewalld 0.9 (RHEL 8, Debian 11) has no --log-target: it logs to
    // --log-file and to syslog (absent here) at once. 1.0+ logs to syslog
    // only unless told `--log-target file`. Its stderr (a traceback) is kept
    // too, for the log of a firewalld that dies at start.
    const logTarget = await this.#knowsLogTarget() ? ["--log-target", "file"] : [];
    const child = this.#spawn("firewalld", [
      "--nofork",
      "--nopid",
      "--system-config",
      this.configDir,
      ...logTarget,
      "--log-file",
      `${this.dir}/firewalld.log`,
    ], "piped");
    this.#stderr = "";
    this.#drained = (async () => {
      for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
        this.#stderr += chunk;
      }
    })();
    this.#firewalld = child;
    let state = "";
    let exited = false;
    child.status.then(() => exited = true);
    await waitFor("firewalld to start", async () => {
      if (exited) throw new Error(`firewalld exited; log:\n${await this.log()}`);
      state = (await this.firewallCmd(["--state"])).stdout.trim();
      return state === "running" || state === "failed";
    });
    return state;
  }

  /** Stops firewalld (SIGTERM, as systemd does; it flushes its rules on the way out). */
  async stop(): Promise<void> {
    const child = this.#firewalld;
    if (!child) return;
    this.#firewalld = null;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    await child.status;
    clearTimeout(timer);
    await this.#drained;
  }

  /**
   * Kills firewalld with SIGKILL, as a crash or the OOM killer would: it
   * neither flushes its rules nor answers a call in progress.
   */
  async kill(): Promise<void> {
    const child = this.#firewalld;
    if (!child) return;
    this.#firewalld = null;
    // `ip netns exec` execs firewalld, so the child's PID is firewalld's own.
    child.kill("SIGKILL");
    await child.status;
    await this.#drained;
  }

  get running(): boolean {
    return this.#firewalld !== null;
  }

  /**
   * Whether this firewalld leaves the iptables tables alone while its direct
   * configuration is empty: 2.0 and later with FirewallBackend=nftables
   * (`may_skip_flush_direct_backends()` in fw.py, commit b7faa74d; firewalld
   * F1, docs/firewalld.md#f1). Then rules applied behind its back survive its
   * start and reloads; 0.9 and 1.x flush them. The version tells it for the
   * Debian roots' firewalld (docs/testing.md#t7), not for every vendor's: RHEL
   * 9.3+ reportedly backports the change into its 1.3.
   */
  async sparesIptablesWithoutDirect(): Promise<boolean> {
    return this.backend === "nftables" && (await firewalldVersion())[0] >= 2;
  }

  /** `firewall-cmd --reload`; throws if it fails. */
  async reload(): Promise<void> {
    const r = await this.firewallCmd(["--reload"]);
    if (r.code !== 0) throw new Error(`firewall-cmd --reload exited ${r.code}: ${r.stderr}`);
  }

  /** A simulated reboot: stop firewalld, empty every table of both backends and nft, start firewalld. */
  async reboot(): Promise<string> {
    await this.stop();
    for (const cmd of IPTABLES) {
      for (const table of TABLES) {
        await this.ns.run(cmd, ["-t", table, "-F"]);
        await this.ns.run(cmd, ["-t", table, "-X"]);
      }
    }
    await this.ns.exec("nft", ["flush", "ruleset"]);
    return await this.start();
  }

  /** Runs firewall-cmd in the namespace against the private bus. */
  firewallCmd(args: string[]): Promise<RunResult> {
    return this.ns.runner.run("firewall-cmd", args, { env: this.env });
  }

  /** `iptables-save` / `ip6tables-save` of one table in the namespace. */
  save(family: 4 | 6, table = "nat"): Promise<string> {
    return this.ns.exec(family === 4 ? "iptables-save" : "ip6tables-save", ["-t", table]);
  }

  /** A D-Bus connection to this world's firewalld; close it when done. */
  connect(): FirewalldBus {
    return connectFirewalld({ address: this.busAddress });
  }

  /** firewalld's log file, then its stderr when it wrote any. */
  async log(): Promise<string> {
    const file = await Deno.readTextFile(`${this.dir}/firewalld.log`).catch(() => "");
    return this.#stderr ? `${file}\n[stderr]\n${this.#stderr}` : file;
  }

  /** Stops firewalld and the bus, deletes the namespace and the temp dir. */
  async cleanup(): Promise<void> {
    await this.stop();
    if (this.#dbus) {
      this.#dbus.kill("SIGTERM");
      await this.#dbus.status;
      this.#dbus = null;
    }
    if (this.ownsNs) await this.ns.destroy();
    await Deno.remove(this.dir, { recursive: true });
  }
}

/** Creates a world, runs `fn`, and always cleans up. */
export async function withFirewalld<T>(
  options: FirewalldWorldOptions,
  fn: (world: FirewalldWorld) => Promise<T>,
): Promise<T> {
  const world = await FirewalldWorld.create(options);
  try {
    return await fn(world);
  } finally {
    await world.cleanup();
  }
}

let installed: Promise<number[]> | null = null;

/**
 * The installed firewalld's version, as [major, minor, patch]: its Python
 * package's `firewall.config.VERSION`, readable without a running daemon
 * (`firewall-cmd --version` asks the daemon).
 */
export function firewalldVersion(): Promise<number[]> {
  installed ??= new Deno.Command("/usr/bin/python3", {
    args: ["-c", "from firewall.config import VERSION; print(VERSION)"],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output().then((o) => {
    const text = new TextDecoder().decode(o.stdout).trim();
    if (!o.success || !/^\d+\.\d+/.test(text)) {
      throw new Error(`cannot read firewalld's version: ${new TextDecoder().decode(o.stderr)}`);
    }
    return text.split(".").map((n) => parseInt(n, 10));
  });
  return installed;
}

async function waitFor(what: string, ready: () => Promise<boolean>, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await ready())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * The comments of a chain's rules in `iptables-save` output, in order (our
 * comments without the prefix; foreign ones as they are), so that rule order
 * can be checked without depending on how iptables-save spells options.
 */
export function chainComments(save: string, chain: string): string[] {
  return save.split("\n")
    .filter((l) => l.startsWith(`-A ${chain} `))
    .map((l) => /--comment (?:"([^"]*)"|(\S+))/.exec(l))
    .map((m) => (m ? m[1] ?? m[2] : "<no comment>").replace("kuma/mesh/transparent/proxy/", ""));
}
