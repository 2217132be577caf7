/**
 * An unchanged re-install (issue 23 item 6) against `install --dry-run` of
 * the same config, as a ratio measured in the same run (bench/README.md):
 * both plan the rules and probe firewalld; the re-install also reads what
 * is installed (every backend's dumps, our nft table, `ss`) and compares,
 * and writes nothing. Target ≤ 1.3x.
 *
 * One throw-away dual-stack namespace per backend (iptables, nftables),
 * the default config installed once untimed; then rounds alternating the
 * re-install and the dry run, so drift hits both alike. Each timed
 * re-install must print "unchanged", or the benchmark fails.
 *
 * Needs root and a user with UID 5678 (`useradd -u 5678 -U -M kuma-dp`).
 * Run: `bench/run.sh unchanged`. BENCH_RUNS sets the rounds (default 15,
 * after 2 warm-up rounds).
 *
 * @module
 */
import { inFreshNetns, median, startBench, timed } from "./_netns.ts";

const root = new URL("..", import.meta.url).pathname;
const cli = `${root}scripts/kuma-tproxy`;
const runs = Number(Deno.env.get("BENCH_RUNS") ?? "15");
const WARMUP = 2;

async function measure(backend: string): Promise<{ unchangedMs: number; dryRunMs: number }> {
  const args = ["install", "--backend", backend];
  return await inFreshNetns(async (ns) => {
    await ns.exec(cli, args);
    const unchangedTimes: number[] = [];
    const dryRunTimes: number[] = [];
    for (let i = 0; i < WARMUP + runs; i++) {
      const again = await timed(ns, "re-install", cli, args);
      if (!again.stdout.startsWith("unchanged: ")) {
        throw new Error(`the re-install changed something: ${again.stdout.trim()}`);
      }
      const dry = await timed(ns, "install --dry-run", cli, [...args, "--dry-run"]);
      if (i < WARMUP) continue;
      unchangedTimes.push(again.ms);
      dryRunTimes.push(dry.ms);
    }
    return { unchangedMs: median(unchangedTimes), dryRunMs: median(dryRunTimes) };
  });
}

const stopBench = await startBench("unchanged");
try {
  let failed = false;
  for (const backend of ["iptables", "nftables"]) {
    try {
      const f = await measure(backend);
      console.log(
        `re-install unchanged, --backend ${backend}, default config: ` +
          `${(f.unchangedMs / f.dryRunMs).toFixed(2)}x install --dry-run of the same config` +
          ` (median ${f.unchangedMs.toFixed(0)} ms vs ${f.dryRunMs.toFixed(0)} ms, IPv4+IPv6,` +
          ` n=${runs}; target 1.3x)`,
      );
    } catch (e) {
      failed = true;
      console.log(
        `re-install unchanged, --backend ${backend}: not measured: ${(e as Error).message}`,
      );
    }
  }
  if (failed) Deno.exitCode = 1;
} finally {
  await stopBench();
}
