/**
 * Install wall time of the CLI, each figure a ratio against plain
 * `iptables-restore --noflush` + `ip6tables-restore --noflush` of the SAME rule
 * text, measured in the same run (bench/README.md). Cases:
 *
 * - default config, into a fresh namespace;
 * - 1,000 exclusions (250 each of inbound/outbound excludePorts and
 *   excludePortsForIPs, the IPs half IPv4 and half IPv6), into a fresh namespace;
 * - re-install of the default config over an existing installation of a
 *   config one excluded port apart (the CLI first removes its earlier rules;
 *   one of the same config writes nothing: unchanged_bench.ts); its baseline
 *   is the same fresh restore as the default case, so the ratio shows what
 *   removing the old rules adds.
 *
 * Every timed run gets its own throw-away namespace with IPv4 and IPv6 on a
 * veth pair that lives entirely inside it; nothing touches the machine's own
 * namespace. Baseline and CLI runs alternate so drift hits both alike. The
 * rule text comes from `install --dry-run` with the same config inside such a
 * namespace, so host facts (IPv6, the kuma-dp UID) match what install sees.
 *
 * Needs root and a user with UID 5678 (`useradd -u 5678 -U -M kuma-dp`).
 * Run: `deno task bench`, or `./scripts/deno run --allow-all bench/install_bench.ts`.
 * BENCH_RUNS sets the number of timed runs per case (default 15, after 1 warm-up).
 */
import { inFreshNetns, median, startBench, timed } from "./_netns.ts";
import { countRules, splitDryRun, thousandExclusions } from "./_install_cases.ts";

const root = new URL("..", import.meta.url).pathname;
const cli = `${root}scripts/kuma-tproxy`;
const runs = Number(Deno.env.get("BENCH_RUNS") ?? "15");
const WARMUP = 1;

/** Which backend the CLI installed into, from its "IPv4 (nft): installed N rules" line. */
function backendOf(stdout: string): "nft" | "legacy" {
  const m = stdout.match(/^IPv4 \((nft|legacy)\): installed /m);
  if (!m) throw new Error(`cannot tell the backend from the install output: ${stdout.trim()}`);
  return m[1] as "nft" | "legacy";
}

interface Case {
  name: string;
  configArgs: string[];
  /** Install once, untimed, before the timed install, with these arguments added. */
  reinstall?: string[];
}

interface Figure {
  cliMs: number;
  baseMs: number;
  rules: number;
  backend: string;
}

async function measure(c: Case): Promise<Figure> {
  const text = splitDryRun(
    await inFreshNetns((ns) => ns.exec(cli, ["install", "--dry-run", ...c.configArgs])),
  );
  // The backend the CLI picks in a fresh namespace; the baseline uses the same one.
  let backend: "nft" | "legacy" | undefined;

  const cliOnce = () =>
    inFreshNetns(async (ns) => {
      if (c.reinstall) await ns.exec(cli, ["install", ...c.configArgs, ...c.reinstall]);
      const r = await timed(ns, `install ${c.name}`, cli, ["install", ...c.configArgs]);
      backend ??= backendOf(r.stdout);
      return r.ms;
    });
  const baseOnce = () =>
    inFreshNetns(async (ns) => {
      const b = backend ?? "nft";
      const v4 = await timed(
        ns,
        "iptables-restore",
        `iptables-${b}-restore`,
        ["--noflush"],
        text.v4,
      );
      const v6 = await timed(
        ns,
        "ip6tables-restore",
        `ip6tables-${b}-restore`,
        ["--noflush"],
        text.v6,
      );
      return v4.ms + v6.ms;
    });

  for (let i = 0; i < WARMUP; i++) {
    await cliOnce();
    await baseOnce();
  }
  const cliTimes: number[] = [];
  const baseTimes: number[] = [];
  for (let i = 0; i < runs; i++) {
    cliTimes.push(await cliOnce());
    baseTimes.push(await baseOnce());
  }
  return {
    cliMs: median(cliTimes),
    baseMs: median(baseTimes),
    rules: countRules(text.v4) + countRules(text.v6),
    backend: backend ?? "?",
  };
}

const stopBench = await startBench("install");

const config = await Deno.makeTempFile({ prefix: "ktp-bench-", suffix: ".json" });
try {
  await Deno.writeTextFile(config, thousandExclusions());
  const cases: Case[] = [
    { name: "default config", configArgs: [] },
    { name: "1,000 exclusions", configArgs: ["--config", config] },
    {
      name: "re-install, default config",
      configArgs: [],
      reinstall: ["--exclude-inbound-ports", "4321"],
    },
  ];
  const baseline = "plain iptables-restore --noflush of the same rules";
  let failed = false;
  for (const c of cases) {
    try {
      const f = await measure(c);
      console.log(
        `install ${c.name}: ${(f.cliMs / f.baseMs).toFixed(2)}x ${baseline}` +
          ` (median ${f.cliMs.toFixed(0)} ms vs ${f.baseMs.toFixed(0)} ms,` +
          ` ${f.rules} rules, IPv4+IPv6, ${f.backend}, n=${runs})`,
      );
    } catch (e) {
      failed = true;
      console.log(`install ${c.name}: not measured: ${(e as Error).message}`);
    }
  }
  if (failed) Deno.exitCode = 1;
} finally {
  await stopBench();
  await Deno.remove(config);
}
