/**
 * How far our CLI is from the floor of its stack: each figure of issue 11
 * (install --dry-run against a bare `deno run`; install of the default
 * config and of 1,000 exclusions against plain restores of the same rules)
 * for three programs, measured side by side in the same run:
 *
 * - ours: `./scripts/kuma-tproxy install [--dry-run]`;
 * - the floor: bench/floor_cli.ts, which only starts Deno, loads zod, makes
 *   the reads an install cannot do without (all at once) and applies the
 *   same rule text with one restore per family (its header says what it
 *   leaves out);
 * - the floor without zod: the same, zod not loaded.
 *
 * A target below the floor cannot be reached by this stack on this machine
 * however the CLI is arranged; the gap between ours and the floor is what
 * arrangement can still win. Every run gets a fresh dual-stack namespace
 * (bench/_netns.ts); programs alternate within each round so drift hits all
 * alike. The floor applies with the nft backend's tools.
 *
 * Needs root and a user with UID 5678. Run: `bench/run.sh floor`.
 * BENCH_RUNS sets the rounds per case (default 15, after 1 warm-up).
 */
import { inFreshNetns, median, startBench, timed } from "./_netns.ts";
import { splitDryRun, thousandExclusions } from "./_install_cases.ts";

const root = new URL("..", import.meta.url).pathname;
const cli = `${root}scripts/kuma-tproxy`;
const deno = `${root}scripts/deno`;
const runs = Number(Deno.env.get("BENCH_RUNS") ?? "15");
const WARMUP = 1;

interface Program {
  name: string;
  argv: (v4: string, v6: string) => string[];
}

/** The three programs for `install` or `install --dry-run`, with extra CLI arguments. */
function programs(mode: "install" | "dry-run", configArgs: string[]): Program[] {
  const floor = (extra: string[]) => (v4: string, v6: string) => [
    deno,
    "run",
    "--quiet",
    "--frozen",
    "--allow-all",
    `${root}bench/floor_cli.ts`,
    mode,
    v4,
    v6,
    ...extra,
  ];
  return [
    {
      name: "ours",
      argv: () => [cli, "install", ...(mode === "dry-run" ? ["--dry-run"] : []), ...configArgs],
    },
    { name: "floor", argv: floor([]) },
    { name: "floor without zod", argv: floor(["no-zod"]) },
  ];
}

const stopBench = await startBench("floor");
const dir = await Deno.makeTempDir({ prefix: "ktp-floor-" });
try {
  const config = `${dir}/thousand.json`;
  await Deno.writeTextFile(config, thousandExclusions());
  const empty = `${dir}/empty.ts`;
  await Deno.writeTextFile(empty, "");

  /** The rule text of a config, written to files the floor reads. */
  const ruleFiles = async (name: string, configArgs: string[]) => {
    const text = splitDryRun(
      await inFreshNetns((ns) => ns.exec(cli, ["install", "--dry-run", ...configArgs])),
    );
    const v4 = `${dir}/${name}.v4`;
    const v6 = `${dir}/${name}.v6`;
    await Deno.writeTextFile(v4, text.v4);
    await Deno.writeTextFile(v6, text.v6);
    return { v4, v6, text };
  };

  const cases = [
    { name: "install --dry-run", mode: "dry-run" as const, configArgs: [], target: 3 },
    { name: "install, default config", mode: "install" as const, configArgs: [], target: 8 },
    {
      name: "install, 1,000 exclusions",
      mode: "install" as const,
      configArgs: ["--config", config],
      target: 3,
    },
  ];
  for (const c of cases) {
    const files = await ruleFiles(c.name.replace(/\W+/g, "-"), c.configArgs);
    const progs = programs(c.mode, c.configArgs);
    const baseline = c.mode === "dry-run"
      ? {
        what: "a bare deno run",
        once: () => runOnce([deno, "run", "--quiet", "--no-config", empty]),
      }
      : {
        what: "plain iptables-restore --noflush of the same rules",
        once: () =>
          inFreshNetns(async (ns) =>
            (await timed(
              ns,
              "iptables-restore",
              "iptables-nft-restore",
              ["--noflush"],
              files.text.v4,
            )).ms +
            (await timed(
              ns,
              "ip6tables-restore",
              "ip6tables-nft-restore",
              ["--noflush"],
              files.text.v6,
            ))
              .ms
          ),
      };
    const times = new Map<string, number[]>([
      ["baseline", []],
      ...progs.map((p) => [p.name, []] as [string, number[]]),
    ]);
    for (let round = 0; round < WARMUP + runs; round++) {
      const b = await baseline.once();
      if (round >= WARMUP) times.get("baseline")!.push(b);
      for (const p of progs) {
        const ms = await runOnce(p.argv(files.v4, files.v6));
        if (round >= WARMUP) times.get(p.name)!.push(ms);
      }
    }
    const base = median(times.get("baseline")!);
    const figures = progs.map((p) => {
      const ms = median(times.get(p.name)!);
      return `${p.name} ${(ms / base).toFixed(2)}x (${ms.toFixed(0)} ms)`;
    });
    console.log(
      `floor ${c.name}: ${figures.join(", ")} against ${baseline.what} ` +
        `(${base.toFixed(0)} ms, n=${runs}); issue 11's target: ${c.target}x`,
    );
  }
} finally {
  await stopBench();
  await Deno.remove(dir, { recursive: true });
}

/** One timed run of `argv` in a fresh dual-stack namespace. */
function runOnce(argv: string[]): Promise<number> {
  return inFreshNetns(async (ns) =>
    (await timed(ns, argv[1] ?? argv[0], argv[0], argv.slice(1))).ms
  );
}
