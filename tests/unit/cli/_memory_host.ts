/**
 * One in-memory host for cli(): a recording fake runner that plays an
 * iptables-nft 1.8.9 host (iptables-save prints a fixed dump; restores
 * succeed and are recorded), a firewalld bus that reports no firewalld,
 * fixed host facts (kuma-dp is UID 5678, no IPv6), and in-memory streams.
 * Nothing here reaches the machine but the lock file, a temp file.
 */
import type { CliIo } from "../../../src/cli/io.ts";
import type { HostFacts } from "../../../src/host/facts.ts";
import { FakeBus } from "../firewalld/_fake_bus.ts";
import { type Call, FakeRunner, ok } from "../os/fake_runner.ts";

export interface MemoryHost {
  io: CliIo;
  runner: FakeRunner;
  bus: FakeBus;
  out(): string;
  err(): string;
  /** The restore runs (`--version` probes left out), `--test` runs included. */
  restores(): Call[];
}

const NFT_VERSION = "v1.8.9 (nf_tables)";
const EMPTY_NAT = "*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n" +
  ":OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\nCOMMIT\n";

/** The host: root unless `uid` says otherwise; `save` is what iptables-save prints. */
export async function memoryHost(
  options: {
    uid?: number;
    save?: string;
    files?: Record<string, string>;
    env?: Record<string, string>;
    stdin?: string;
  } = {},
): Promise<MemoryHost> {
  let out = "";
  let err = "";
  const save = options.save ?? EMPTY_NAT;
  const runner = new FakeRunner(({ cmd, args }) => {
    const name = cmd.split("/").at(-1)!;
    // Only the nft flavour of iptables 1.8.9 exists; nft, ip and ss do not.
    if (!/^ip6?tables(-nft)?(-save|-restore)?$/.test(name)) return undefined;
    if (args[0] === "--version") return ok(`${name} ${NFT_VERSION}\n`);
    if (name.endsWith("-save")) return ok(save);
    return ok();
  });
  const bus = new FakeBus(undefined, null);
  const facts: HostFacts = {
    nameservers: () => Promise.resolve(["10.0.0.2"]),
    lookupUser: (u) =>
      Promise.resolve(u === "kuma-dp" || u === "5678" ? { name: "kuma-dp", uid: 5678 } : undefined),
    loopbackInterface: () => Promise.resolve("lo"),
    ipv6: () => Promise.resolve("disabled"),
    hasAddress: () => Promise.resolve(false),
  };
  const lockPath = await Deno.makeTempFile({ prefix: "ktp-cli-lock-" });
  const files = options.files ?? {};
  const io: CliIo = {
    out: (t) => void (out += t),
    err: (t) => void (err += t),
    env: options.env ?? {},
    readStdin: () => Promise.resolve(options.stdin ?? ""),
    readFile: (path) =>
      path in files
        ? Promise.resolve(files[path])
        : Promise.reject(new Deno.errors.NotFound(`no such file: ${path}`)),
    uid: () => options.uid ?? 0,
    runner,
    facts,
    connectFirewalld: () => Promise.resolve(bus),
    firewalldDir: "/nonexistent/ktp/firewalld",
    boot: {
      unitDir: "/nonexistent/ktp/systemd/system",
      configDir: "/nonexistent/ktp/kuma-tproxy",
      runtimeDir: "/nonexistent/ktp/run/systemd/system",
    },
    selfCommand: ["/usr/local/bin/kuma-tproxy"],
    lockPath,
    nftMarkerPath: "/nonexistent/ktp/run/kuma-tproxy.nft-installed",
    onInterrupt: () => () => {},
  };
  return {
    io,
    runner,
    bus,
    out: () => out,
    err: () => err,
    restores: () =>
      runner.calls.filter((c) => c.cmd.endsWith("-restore") && c.args[0] !== "--version"),
  };
}

/** Our chain and one jump to it, as iptables-save prints them: an installation that drifted. */
export const DRIFTED = `*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:KUMA_MESH_INBOUND - [0:0]
-A PREROUTING -p tcp -m comment --comment "kuma/mesh/transparent/proxy/old" -j KUMA_MESH_INBOUND
COMMIT
`;
