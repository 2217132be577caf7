/**
 * Persisting a 1,000-rule configuration with firewalld (issue 5, item 8):
 * our D-Bus path (`storeWithFirewalld`: validation, one
 * `config.direct.update` for the permanent config, then the runtime entries)
 * against the baseline of one `firewall-cmd --permanent --direct --add-rule`
 * (or `--add-chain`) call per entry, measured in the same run against the
 * same real firewalld (tests/world/firewalld.ts: its own netns and private
 * bus, so the machine's firewalld and bus are never touched).
 *
 * The baseline writes the permanent config only; ours writes permanent and
 * runtime and validates first, so the ratio flatters the baseline.
 *
 * Each firewall-cmd call starts Python and makes firewalld rewrite direct.xml,
 * so one round takes minutes: `BENCH_FIREWALLD_RUNS` (default 1) rounds,
 * `BENCH_FIREWALLD_RULES` (default 1000) rules.
 *
 * Run: `deno task bench`, or `./scripts/deno run --allow-all bench/firewalld_bench.ts`.
 */
import { toDirectEntries } from "../src/firewalld/direct_entries.ts";
import { removeFromFirewalld, storeWithFirewalld } from "../src/firewalld/persist.ts";
import type { Rule, RuleSet } from "../src/rules/model.ts";
import { FirewalldWorld } from "../tests/world/firewalld.ts";

const RULES = Number(Deno.env.get("BENCH_FIREWALLD_RULES") ?? "1000");
const RUNS = Number(Deno.env.get("BENCH_FIREWALLD_RUNS") ?? "1");

/**
 * `n` rules in the shape a large install has: one jump from OUTPUT, then
 * outbound exclusions by IP (what `--exclude-outbound-ips` with many
 * addresses produces), then the redirect.
 */
function largeRuleSet(n: number): RuleSet {
  const rules: Rule[] = [{
    chain: "OUTPUT",
    insert: false,
    comment: "redirect outbound TCP traffic to KUMA_MESH_OUTBOUND",
    params: [{ name: "protocol", value: "tcp" }, { name: "jump", value: "KUMA_MESH_OUTBOUND" }],
  }];
  for (let i = 0; i < n - 2; i++) {
    rules.push({
      chain: "KUMA_MESH_OUTBOUND",
      insert: false,
      comment: `return early for excluded IP ${i}`,
      params: [
        { name: "destination", value: `10.${(i >> 8) & 255}.${i & 255}.1/32` },
        { name: "jump", value: "RETURN" },
      ],
    });
  }
  rules.push({
    chain: "KUMA_MESH_OUTBOUND",
    insert: false,
    comment: "redirect TCP traffic to envoy (outbound)",
    params: [
      { name: "protocol", value: "tcp" },
      { name: "jump", value: "REDIRECT" },
      { name: "to-ports", value: "15001" },
    ],
  });
  return { family: 4, tables: [{ name: "nat", chains: ["KUMA_MESH_OUTBOUND"], rules }] };
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

/** Empties the permanent and runtime direct config between rounds (not timed). */
async function reset(world: FirewalldWorld): Promise<void> {
  const bus = world.connect();
  try {
    await removeFromFirewalld({ bus });
    await bus.updatePermanent({ chains: [], rules: [], passthroughs: [] });
    await bus.reload();
  } finally {
    bus.close();
  }
}

async function ours(world: FirewalldWorld, ruleSet: RuleSet): Promise<number> {
  const bus = world.connect();
  try {
    return await timed(() => storeWithFirewalld({ bus, runner: world.ns.runner }, [ruleSet]));
  } finally {
    bus.close();
  }
}

async function baseline(world: FirewalldWorld, ruleSet: RuleSet): Promise<number> {
  const entries = toDirectEntries([ruleSet]);
  return await timed(async () => {
    for (const e of entries) {
      const args = e.kind === "chain"
        ? ["--add-chain", e.ipv, e.table, e.chain]
        : e.kind === "rule"
        ? ["--add-rule", e.ipv, e.table, e.chain, String(e.priority), ...e.args]
        : ["--add-passthrough", e.ipv, ...e.args];
      const r = await world.firewallCmd(["--permanent", "--direct", ...args]);
      if (r.code !== 0) throw new Error(`firewall-cmd ${args.join(" ")}: ${r.stderr}`);
    }
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const world = await FirewalldWorld.create({ tag: "bench" });
try {
  const state = await world.start();
  if (state !== "running") throw new Error(`firewalld ${state}: ${await world.log()}`);
  const ruleSet = largeRuleSet(RULES);
  const entries = toDirectEntries([ruleSet]).length;
  // Warm-up: the first D-Bus connection and iptables-restore load caches.
  await ours(world, largeRuleSet(10));
  await reset(world);
  const oursMs: number[] = [];
  const baseMs: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    baseMs.push(await baseline(world, ruleSet));
    await reset(world);
    oursMs.push(await ours(world, ruleSet));
    await reset(world);
  }
  const [o, b] = [median(oursMs), median(baseMs)];
  console.log(
    `baseline: firewall-cmd --permanent --direct per entry, ${entries} entries: ` +
      `median ${b.toFixed(0)} ms (n=${RUNS})`,
  );
  console.log(
    `ours: storeWithFirewalld over D-Bus (permanent + runtime + validation), ${entries} entries: ` +
      `median ${o.toFixed(0)} ms (n=${RUNS})`,
  );
  console.log(`ratio ours / firewall-cmd: ${(o / b).toFixed(4)}x`);
  console.log(`ratio firewall-cmd / ours: ${(b / o).toFixed(1)}x`);
} finally {
  await world.cleanup();
}
