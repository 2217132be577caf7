/**
 * The two-host traffic world of docs/testing.md#t1: a "host" namespace where
 * the rules go, with the sidecar stand-in (UID 5678) and an app service, and
 * a "peer" namespace with real services and an upstream DNS server, joined by
 * a veth pair. Probes send real TCP, UDP and DNS traffic and report what
 * answered, which is how tests prove (or disprove) a redirect.
 *
 * The veth pair is created inside the host namespace with its peer end put
 * straight into the peer namespace, so the machine's own namespace never
 * sees it even for a moment.
 */
import { Netns } from "./netns.ts";
import { Helper, inNetnsAs, PYTHON } from "./process.ts";
import { APP_UID, ensureWorldUsers, KUMA_DP_UID } from "./users.ts";

export { APP_UID, KUMA_DP_UID };

/** Ports of everything the world runs. */
export const PORTS = {
  /** Sidecar stand-in, outbound listener (kumactl default). */
  outbound: 15001,
  /** Sidecar stand-in, inbound listener (kumactl default). */
  inbound: 15006,
  /** Sidecar stand-in, DNS (kumactl default). */
  dns: 15053,
  /** The app's own service on the host (TCP). */
  hostApp: 8080,
  /** A second host service, for tests that exclude an inbound port (TCP). */
  hostExcluded: 8081,
  /** The peer's service (TCP and UDP). */
  peerService: 9090,
  /** A second peer service, for tests that exclude an outbound port (TCP). */
  peerExcluded: 9091,
} as const;

/** The stand-in's listening ports. */
export interface SidecarPorts {
  outbound: number;
  inbound: number;
  dns: number;
}

/** What each server replies, so tests can tell who answered. */
export const NAMES = {
  sidecar: "sidecar",
  hostApp: "host-app",
  hostExcluded: "host-excluded",
  peerService: "peer-service",
  peerExcluded: "peer-excluded",
} as const;

/** DNS answers: the stand-in's (proves a redirect) and the upstream's (proves none). */
export const DNS_ANSWERS = {
  standinA: "10.99.99.99",
  standinAAAA: "fd99::99",
  upstreamA: "10.88.88.88",
  upstreamAAAA: "fd88::88",
} as const;

/** Which side of the veth a probe starts from. */
export type Side = "host" | "peer";
export type Proto = "tcp" | "udp";

/** The sidecar's reply line for a connection redirected to `port` that was meant for `addr:origPort`. */
export function sidecarReply(port: number, addr: string, origPort: number): string {
  const dst = addr.includes(":") ? `[${addr}]` : addr;
  return `${NAMES.sidecar}:${port} orig=${dst}:${origPort}`;
}

const SCRIPTS = ["sidecar.py", "probe.py"];
/** Upper bound for one probe; the probe itself gives up after PROBE_TIMEOUT_S. */
const PROBE_TIMEOUT_S = 2;

export class World {
  /** Addresses on the veth: host side `.1`, peer side `.2`. */
  readonly hostAddr4: string;
  readonly peerAddr4: string;
  readonly hostAddr6: string;
  readonly peerAddr6: string;
  /** A resolv.conf naming the peer (v4 and v6) as nameservers. */
  readonly resolvConf: string;
  private readonly helpers = new Map<string, Helper>();

  private constructor(
    readonly host: Netns,
    readonly peer: Netns,
    /** Temp dir holding the helper scripts and resolv.conf (readable by the test users). */
    readonly dir: string,
    subnet: number,
  ) {
    this.hostAddr4 = `10.200.${subnet}.1`;
    this.peerAddr4 = `10.200.${subnet}.2`;
    this.hostAddr6 = `fd00:200:${subnet.toString(16)}::1`;
    this.peerAddr6 = `fd00:200:${subnet.toString(16)}::2`;
    this.resolvConf = `${dir}/resolv.conf`;
  }

  /**
   * Builds a fresh world with every server running. Call `destroy()` (or use
   * `withWorld`). `hostUsers: false` leaves the machine's users alone (the
   * helpers run by UID, which needs no passwd entry; scripts/demo.ts creates
   * kuma-dp in a private /etc instead); `sidecar: false` starts no stand-in,
   * for a caller that starts it with `startSidecar` later.
   */
  static async create(
    options: { hostUsers?: boolean; sidecar?: boolean } = {},
  ): Promise<World> {
    if (options.hostUsers !== false) await ensureWorldUsers();
    const dir = await Deno.makeTempDir({ prefix: "ktp-world-" });
    // makeTempDir is 0700; the helpers run as UIDs 5678/5679 and must read it.
    await Deno.chmod(dir, 0o755);
    for (const s of SCRIPTS) {
      // Copied because the repo may sit where the test users cannot read.
      const src = decodeURIComponent(new URL(s, import.meta.url).pathname);
      await Deno.copyFile(src, `${dir}/${s}`);
    }
    const host = await Netns.create("h");
    let peer: Netns | undefined;
    let world: World | undefined;
    try {
      peer = await Netns.create("p");
      world = new World(host, peer, dir, 1 + Math.floor(Math.random() * 254));
      await world.wire();
      await Deno.writeTextFile(
        world.resolvConf,
        `# kuma-tproxy test world\nnameserver ${world.peerAddr4}\nnameserver ${world.peerAddr6}\n`,
      );
      await world.startServers(options.sidecar !== false);
      return world;
    } catch (e) {
      if (world) await world.destroy();
      else {
        await peer?.destroy();
        await host.destroy();
        await Deno.remove(dir, { recursive: true });
      }
      throw e;
    }
  }

  private async wire(): Promise<void> {
    // Interface names are global only in the namespace they live in, but keep
    // them unique anyway so that `ip link` output is never ambiguous.
    const tag = crypto.randomUUID().slice(0, 6);
    const [a, b] = [`ktp${tag}a`, `ktp${tag}b`];
    await this.host.exec("ip", [
      "link",
      "add",
      a,
      "type",
      "veth",
      "peer",
      "name",
      b,
      "netns",
      this.peer.name,
    ]);
    for (
      const [ns, dev, v4, v6] of [
        [this.host, a, this.hostAddr4, this.hostAddr6],
        [this.peer, b, this.peerAddr4, this.peerAddr6],
      ] as const
    ) {
      await ns.exec("ip", ["link", "set", dev, "up"]);
      await ns.exec("ip", ["addr", "add", `${v4}/24`, "dev", dev]);
      // nodad: without it the address stays "tentative" for a second or two
      // and connections to it fail.
      await ns.exec("ip", ["-6", "addr", "add", `${v6}/64`, "dev", dev, "nodad"]);
    }
    // A default route via the peer lets the app "reach" any address, so tests
    // can probe outbound redirects to destinations that exist nowhere.
    await this.host.exec("ip", ["route", "add", "default", "via", this.peerAddr4]);
    await this.host.exec("ip", ["-6", "route", "add", "default", "via", this.peerAddr6]);
  }

  private async startServers(sidecar: boolean): Promise<void> {
    if (sidecar) await this.startSidecar();
    const serve = (ns: Netns, uid: number | null, proto: Proto, port: number, name: string) =>
      this.startHelper(`${name}/${proto}`, ns, uid, [
        "sidecar.py",
        "--serve",
        proto,
        String(port),
        name,
      ]);
    await serve(this.host, APP_UID, "tcp", PORTS.hostApp, NAMES.hostApp);
    await serve(this.host, APP_UID, "tcp", PORTS.hostExcluded, NAMES.hostExcluded);
    await serve(this.peer, null, "tcp", PORTS.peerService, NAMES.peerService);
    await serve(this.peer, null, "udp", PORTS.peerService, NAMES.peerService);
    await serve(this.peer, null, "tcp", PORTS.peerExcluded, NAMES.peerExcluded);
    // Port 53 needs root; the peer is another machine, so that is realistic.
    await this.startHelper("upstream-dns", this.peer, null, ["sidecar.py", "--upstream-dns", "53"]);
  }

  private async startHelper(label: string, ns: Netns, uid: number | null, args: string[]) {
    const argv = [...inNetnsAs(ns.name, uid), PYTHON, `${this.dir}/${args[0]}`, ...args.slice(1)];
    this.helpers.set(label, await Helper.start(label, argv));
  }

  /**
   * Starts the sidecar stand-in as UID 5678 in the host namespace (done by
   * `create`), on `ports` (kumactl's defaults unless given). `launch`, if
   * given, is the argv prefix that starts it instead of
   * `ip netns exec HOST setpriv --reuid=5678 ...`; it must exec, so that the
   * PID held is the stand-in's.
   */
  async startSidecar(
    options: { ports?: SidecarPorts; launch?: string[] } = {},
  ): Promise<void> {
    if (this.helpers.has(NAMES.sidecar)) return;
    const ports = options.ports ?? PORTS;
    const args = [
      "--name",
      NAMES.sidecar,
      "--outbound",
      String(ports.outbound),
      "--inbound",
      String(ports.inbound),
      "--dns",
      String(ports.dns),
    ];
    if (options.launch === undefined) {
      await this.startHelper(NAMES.sidecar, this.host, KUMA_DP_UID, ["sidecar.py", ...args]);
      return;
    }
    const argv = [...options.launch, PYTHON, `${this.dir}/sidecar.py`, ...args];
    this.helpers.set(NAMES.sidecar, await Helper.start(NAMES.sidecar, argv));
  }

  /** Stops the stand-in, e.g. to test what happens when nothing listens on the redirect ports. */
  async stopSidecar(): Promise<void> {
    await this.helpers.get(NAMES.sidecar)?.stop();
    this.helpers.delete(NAMES.sidecar);
  }

  /** PIDs of the running helpers (sidecar, services, upstream DNS). */
  pids(): number[] {
    return [...this.helpers.values()].map((h) => h.pid);
  }

  /** Address of a side in a family. */
  addr(side: Side, family: 4 | 6): string {
    if (side === "host") return family === 4 ? this.hostAddr4 : this.hostAddr6;
    return family === 4 ? this.peerAddr4 : this.peerAddr6;
  }

  /** Env for running the tool against this world's resolv.conf. */
  toolEnv(): Record<string, string> {
    return { KUMA_TRANSPARENT_PROXY_REDIRECT_DNS_RESOLV_CONFIG_PATH: this.resolvConf };
  }

  /**
   * Connects from `fromNs` as `asUid` (`null`: root) to `addr:port` and
   * returns the line the server sent back, or `"error: <reason>"` (refused,
   * timeout, ...). `source` binds the local address (TCP). Never takes more
   * than a few seconds.
   */
  connect(
    fromNs: Side,
    asUid: number | null,
    addr: string,
    port: number,
    proto: Proto = "tcp",
    source?: string,
  ): Promise<string> {
    const from = source === undefined ? [] : ["--source", source];
    return this.probe(fromNs, asUid, [proto, addr, String(port), ...from]);
  }

  /**
   * Sends a DNS query for `name` from the host namespace as `asUid` to
   * `server` and returns the answer's address (or `"error: <reason>"`).
   * Compare with `DNS_ANSWERS` to tell the stand-in from the upstream.
   */
  dnsQuery(
    asUid: number | null,
    server: string,
    name: string,
    options: { type?: "A" | "AAAA"; port?: number; fromNs?: Side } = {},
  ): Promise<string> {
    return this.probe(options.fromNs ?? "host", asUid, [
      "dns",
      server,
      name,
      "--type",
      options.type ?? (server.includes(":") ? "AAAA" : "A"),
      "--port",
      String(options.port ?? 53),
    ]);
  }

  private async probe(side: Side, uid: number | null, args: string[]): Promise<string> {
    const ns = side === "host" ? this.host : this.peer;
    const argv = [
      ...inNetnsAs(ns.name, uid),
      PYTHON,
      `${this.dir}/probe.py`,
      ...args,
      "--timeout",
      String(PROBE_TIMEOUT_S),
    ];
    const out = await new Deno.Command(argv[0], {
      args: argv.slice(1),
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      // Belt and braces: the probe has its own socket timeout.
      signal: AbortSignal.timeout((PROBE_TIMEOUT_S + 3) * 1000),
    }).output();
    const line = new TextDecoder().decode(out.stdout).trim();
    if (line) return line;
    return `error: probe failed (exit ${out.code}): ${new TextDecoder().decode(out.stderr).trim()}`;
  }

  /** Stops every helper by PID, deletes both namespaces and the temp dir. */
  async destroy(): Promise<void> {
    await Promise.all([...this.helpers.values()].map((h) => h.stop()));
    this.helpers.clear();
    await this.peer.destroy();
    await this.host.destroy();
    await Deno.remove(this.dir, { recursive: true }).catch(() => {});
  }
}

/** Builds a world, runs `fn` in it, and always destroys it. */
export async function withWorld<T>(fn: (world: World) => Promise<T>): Promise<T> {
  const world = await World.create();
  try {
    return await fn(world);
  } finally {
    await world.destroy();
  }
}
