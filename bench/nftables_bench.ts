/**
 * The nftables backend, two figures, each against a baseline measured in the
 * same run (bench/README.md):
 *
 * 1. Install wall time of `install --backend nftables` against one plain
 *    `nft -f` of the same script (taken from `install --dry-run`), for the
 *    default config and for 1,000 exclusions.
 * 2. Per-packet cost: new TCP connections per second through the outbound
 *    redirect, with 0 and with 1,000 excluded CIDRs (none matching the
 *    destination, so every exclusion is checked), iptables against
 *    nftables, side by side. The baseline is the same connection loop with
 *    no rules at all. iptables checks its exclusions one rule at a time;
 *    nftables looks them up in one interval set, so its figure should not
 *    fall as exclusions grow.
 *
 * Every measurement runs in a throw-away namespace with loopback and a veth
 * pair inside it (192.0.2.0/24); nothing touches the machine's namespace, and
 * every loop is bounded (BENCH_CONNECTIONS connections, BENCH_RUNS rounds).
 *
 * Needs root and a user with UID 5678. Run: `bench/run.sh nftables`.
 */
import type { Netns } from "../tests/world/netns.ts";
import { inFreshNetns, median, startBench, timed } from "./_netns.ts";

const root = new URL("..", import.meta.url).pathname;
const cli = `${root}scripts/kuma-tproxy`;
const helper = `${root}bench/conn_rate.py`;
const runs = Number(Deno.env.get("BENCH_RUNS") ?? "5");
const connections = Number(Deno.env.get("BENCH_CONNECTIONS") ?? "2000");
const KUMA_DP = ["--kuma-dp-user", "5678"];
/** Where the app connects: not local, so only the redirect brings it to the listener. */
const TARGET = "192.0.2.99";
const OUTBOUND = 15001;

/** 1,000 CIDRs, none containing TARGET. */
const CIDRS = Array.from({ length: 1000 }, (_, i) => `10.${i >> 8}.${i & 255}.0/24`);

async function installFigure(name: string, args: string[]): Promise<string> {
  const script = await inFreshNetns((ns) =>
    ns.exec(cli, ["install", "--backend", "nftables", "--dry-run", ...KUMA_DP, ...args])
  );
  const ours: number[] = [];
  const base: number[] = [];
  for (let i = 0; i < runs + 1; i++) {
    const o = await inFreshNetns((ns) =>
      timed(ns, "install", cli, ["install", "--backend", "nftables", ...KUMA_DP, ...args]).then((
        t,
      ) => t.ms)
    );
    const b = await inFreshNetns((ns) =>
      timed(ns, "nft -f", "nft", ["-f", "-"], script).then((t) => t.ms)
    );
    if (i > 0) { // the first round warms up
      ours.push(o);
      base.push(b);
    }
  }
  const [o, b] = [median(ours), median(base)];
  return `install --backend nftables, ${name}: ${(o / b).toFixed(2)}x one plain nft -f of the ` +
    `same script (median ${o.toFixed(0)} ms vs ${b.toFixed(0)} ms, n=${runs})`;
}

/** Connections per second from root (not kuma-dp, so redirected) to TARGET:80 after `setup`. */
async function rate(setup: (ns: Netns) => Promise<void>): Promise<number> {
  return await inFreshNetns(async (ns) => {
    await setup(ns);
    const server = new Deno.Command("ip", {
      args: ["netns", "exec", ns.name, "python3", helper, "server", String(OUTBOUND)],
      stdout: "piped",
      stderr: "null",
    }).spawn();
    try {
      const reader = server.stdout.getReader();
      await reader.read(); // "ready"
      reader.releaseLock();
      const out = await ns.exec("python3", [helper, "client", TARGET, "80", String(connections)]);
      return Number(out.trim());
    } finally {
      server.kill("SIGKILL");
      await server.status;
      await server.stdout.cancel().catch(() => {});
    }
  });
}

async function rateFigures(): Promise<string[]> {
  const exclude = (n: number) => n === 0 ? [] : ["--exclude-outbound-ips", CIDRS.join(",")];
  const configs = [
    { name: "iptables, 0 excluded CIDRs", args: exclude(0) },
    { name: "iptables, 1,000 excluded CIDRs", args: exclude(1000) },
    { name: "nftables, 0 excluded CIDRs", args: ["--backend", "nftables"] },
    { name: "nftables, 1,000 excluded CIDRs", args: ["--backend", "nftables", ...exclude(1000)] },
  ];
  // The baseline redirects with one bare rule: the same listener, no mesh rules to walk.
  const baseline = (ns: Netns) =>
    ns.exec("nft", [
      `add table ip b; add chain ip b o { type nat hook output priority -100; }; add rule ip b o ip daddr ${TARGET} tcp dport 80 redirect to :${OUTBOUND}`,
    ])
      .then(() => {});
  const results = new Map<string, number[]>([
    ["baseline", []],
    ...configs.map((c) => [c.name, []] as [string, number[]]),
  ]);
  for (let i = 0; i < runs + 1; i++) {
    // Side by side: every configuration once per round, so drift hits all alike.
    const round: [string, number][] = [["baseline", await rate(baseline)]];
    for (const c of configs) {
      round.push([
        c.name,
        await rate(async (ns) => {
          await ns.exec(cli, ["install", ...KUMA_DP, "--ip-family-mode", "ipv4", ...c.args]);
        }),
      ]);
    }
    if (i > 0) { for (const [name, r] of round) results.get(name)!.push(r); }
  }
  const base = median(results.get("baseline")!);
  return configs.map((c) => {
    const r = median(results.get(c.name)!);
    return `connections/s through the redirect, ${c.name}: ${(r / base).toFixed(2)}x a single ` +
      `bare redirect rule (median ${r.toFixed(0)} vs ${base.toFixed(0)} per s, ` +
      `${connections} connections, n=${runs})`;
  });
}

const stopBench = await startBench("nftables");
const config = await Deno.makeTempFile({ prefix: "ktp-nftbench-", suffix: ".json" });
try {
  const ports = (from: number) => Array.from({ length: 250 }, (_, i) => from + i);
  await Deno.writeTextFile(
    config,
    JSON.stringify({
      redirect: {
        inbound: { excludePorts: ports(20000), excludePortsForIPs: CIDRS.slice(0, 250) },
        outbound: { excludePorts: ports(30000), excludePortsForIPs: CIDRS.slice(250, 500) },
      },
    }),
  );
  console.log(await installFigure("default config", []));
  console.log(await installFigure("1,000 exclusions", ["--config", config]));
  for (const line of await rateFigures()) console.log(line);
} finally {
  await stopBench();
  await Deno.remove(config);
}
