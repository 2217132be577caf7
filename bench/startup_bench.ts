/**
 * Start-up cost of the CLI: `--version`, `install --dry-run` of the default
 * config and `config`, the last two also through commander instead of the
 * fast argv path, via ./scripts/kuma-tproxy, each as a ratio against a bare
 * `deno run` of an empty script measured in the same run (bench/README.md).
 *
 * Everything runs as root inside one throw-away dual-stack namespace this
 * benchmark creates (bench/_netns.ts), the baseline too, so the dry run's
 * detection reads that namespace's (empty) rules and never the machine's own.
 * Each round runs the baseline and every case once, in turn, so drift hits
 * all alike.
 *
 * Needs root and a user with UID 5678 (`useradd -u 5678 -U -M kuma-dp`).
 * Run: `deno task bench`, or `./scripts/deno run --allow-all bench/startup_bench.ts`.
 * BENCH_RUNS sets the number of rounds (default 15, after 2 warm-up rounds).
 */
import { inFreshNetns, median, startBench, timed } from "./_netns.ts";

const root = new URL("..", import.meta.url).pathname;
const runs = Number(Deno.env.get("BENCH_RUNS") ?? "15");
const WARMUP = 2;

interface Case {
  name: string;
  argv: string[];
}

const stopBench = await startBench("startup");
const empty = await Deno.makeTempFile({ suffix: ".ts" });
try {
  // The baseline sits outside the repo so no deno.json or lock is loaded.
  const baseline: Case = {
    name: "bare deno run",
    argv: [`${root}scripts/deno`, "run", "--quiet", "--no-config", empty],
  };
  const cli = `${root}scripts/kuma-tproxy`;
  // A trailing `--` changes nothing for commander but makes the fast path
  // (src/cli/fast_argv.ts) decline, so each pair shows what that path saves
  // (docs/decisions.md#d2).
  const cases: Case[] = [
    { name: "--version", argv: [cli, "--version"] },
    { name: "install --dry-run", argv: [cli, "install", "--dry-run"] },
    { name: "install --dry-run -- (commander)", argv: [cli, "install", "--dry-run", "--"] },
    { name: "config", argv: [cli, "config"] },
    { name: "config -- (commander)", argv: [cli, "config", "--"] },
  ];
  const times = new Map<Case, number[]>([baseline, ...cases].map((c) => [c, []]));
  await inFreshNetns(async (ns) => {
    for (let round = 0; round < WARMUP + runs; round++) {
      for (const c of [baseline, ...cases]) {
        const { ms } = await timed(ns, c.name, c.argv[0], c.argv.slice(1));
        if (round >= WARMUP) times.get(c)!.push(ms);
      }
    }
  }, "start");
  const base = median(times.get(baseline)!);
  console.log(`baseline: ${baseline.name}: median ${base.toFixed(0)} ms (n=${runs})`);
  for (const c of cases) {
    const ms = median(times.get(c)!);
    console.log(
      `startup ${c.name}: ${(ms / base).toFixed(2)}x ${baseline.name}` +
        ` (median ${ms.toFixed(0)} ms vs ${base.toFixed(0)} ms, n=${runs})`,
    );
  }
} finally {
  await stopBench();
  await Deno.remove(empty);
}
