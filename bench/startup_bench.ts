/**
 * Start-up cost of the CLI: `--version` and `install --dry-run` of the default
 * config via ./scripts/kuma-tproxy, each as a ratio against a bare `deno run`
 * of an empty script measured in the same run (bench/README.md).
 *
 * Run: `deno task bench`, or `./scripts/deno run --allow-all bench/startup_bench.ts`.
 */

const root = new URL("..", import.meta.url).pathname;
const runs = Number(Deno.env.get("BENCH_RUNS") ?? "10");
const WARMUP = 2;

interface Case {
  name: string;
  argv: string[];
}

/** Wall time of one run in ms; throws with stderr if the command fails. */
async function timeOnce(c: Case): Promise<number> {
  const start = performance.now();
  const out = await new Deno.Command(c.argv[0], {
    args: c.argv.slice(1),
    cwd: root,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  const ms = performance.now() - start;
  if (out.code !== 0) {
    throw new Error(
      `${c.name}: exited ${out.code}: ${new TextDecoder().decode(out.stderr).trim()}`,
    );
  }
  return ms;
}

async function median(c: Case): Promise<number> {
  for (let i = 0; i < WARMUP; i++) await timeOnce(c);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push(await timeOnce(c));
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

const empty = await Deno.makeTempFile({ suffix: ".ts" });
try {
  // The baseline sits outside the repo so no deno.json or lock is loaded.
  const baseline: Case = {
    name: "bare deno run",
    argv: [`${root}scripts/deno`, "run", "--quiet", "--no-config", empty],
  };
  const cli = `${root}scripts/kuma-tproxy`;
  const cases: Case[] = [
    { name: "--version", argv: [cli, "--version"] },
    { name: "install --dry-run", argv: [cli, "install", "--dry-run"] },
  ];
  const base = await median(baseline);
  console.log(`baseline: ${baseline.name}: median ${base.toFixed(0)} ms (n=${runs})`);
  let failed = false;
  for (const c of cases) {
    try {
      const ms = await median(c);
      console.log(
        `startup ${c.name}: ${(ms / base).toFixed(2)}x ${baseline.name}` +
          ` (median ${ms.toFixed(0)} ms vs ${base.toFixed(0)} ms, n=${runs})`,
      );
    } catch (e) {
      failed = true;
      console.log(`startup ${c.name}: not measured: ${(e as Error).message}`);
    }
  }
  if (failed) Deno.exitCode = 1;
} finally {
  await Deno.remove(empty);
}
