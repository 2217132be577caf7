import { assert, assertEquals, assertRejects, assertStringIncludes } from "../../assert.ts";
import { planRemoval } from "../../../src/iptables/cleanup.ts";
import { LiveDumps } from "../../../src/iptables/dumps.ts";
import { UnsafeStateError } from "../../../src/iptables/errors.ts";
import type { Executables } from "../../../src/iptables/executables.ts";
import { mergeRestore, recreateText } from "../../../src/iptables/restore_text.ts";
import { parseSave } from "../../../src/iptables/save_parser.ts";
import { ApplyError, type ApplyOptions, applyPlans } from "../../../src/iptables/transaction.ts";
import { type Call, fail, FakeRunner, ok } from "../os/fake_runner.ts";

const C = (t: string) => `-m comment --comment "kuma/mesh/transparent/proxy/${t}"`;
const exe = (family: 4 | 6, mode: "nft" | "legacy" = "nft"): Executables => ({
  mode,
  family,
  iptables: `ip${family}`,
  save: `ip${family}-save`,
  restore: `ip${family}-restore`,
});

const OLD = [
  "*nat",
  ":OUTPUT ACCEPT [0:0]",
  ":KUMA_MESH_OUTBOUND - [0:0]",
  "-A OUTPUT -j ACCEPT",
  `-A OUTPUT -p tcp ${C("old")} -j KUMA_MESH_OUTBOUND`,
  "-A KUMA_MESH_OUTBOUND -j RETURN",
  "COMMIT",
  "",
].join("\n");
const NEW_LIVE = [
  "*nat",
  ":OUTPUT ACCEPT [0:0]",
  ":KUMA_MESH_OUTBOUND - [0:0]",
  `-A OUTPUT -p tcp ${C("new")} -j KUMA_MESH_OUTBOUND`,
  "-A OUTPUT -j ACCEPT",
  "-A KUMA_MESH_OUTBOUND -j REDIRECT --to-ports 15001",
  "COMMIT",
  "",
].join("\n");
const RULES =
  `* nat\n-N KUMA_MESH_OUTBOUND\n-I OUTPUT 1 -p tcp ${C("new")} -j KUMA_MESH_OUTBOUND\n` +
  "-A KUMA_MESH_OUTBOUND -j REDIRECT --to-ports 15001\nCOMMIT\n";
/**
 * RULES plus a raw table: two COMMITs, so on nft too the restore is not one
 * transaction and gets its --test pass. The tests of that pass use this, or
 * legacy executables: an nft restore of one table is applied untested
 * (oneTransaction in transaction.ts).
 */
const RULES_TWO_TABLES = RULES +
  `*raw\n-A OUTPUT -p udp --dport 53 ${C("dns")} -j CT --zone 1\nCOMMIT\n`;

/**
 * Two families whose saves return `live[family]`. A non-test restore of a
 * family calls `onRestore`, which may fail it or change what save returns.
 */
function world(
  onRestore: (family: string, call: Call, live: Record<string, string>) => ReturnType<typeof ok>,
) {
  const live: Record<string, string> = { "4": OLD, "6": OLD };
  const runner = new FakeRunner((call) => {
    const family = call.cmd[2];
    if (call.cmd.endsWith("-save")) return ok(live[family]);
    if (call.args.includes("--test")) return ok();
    return onRestore(family, call, live);
  });
  return { runner, live };
}

const options = (extra: Partial<ApplyOptions> = {}): ApplyOptions => ({
  wait: 5,
  waitInterval: 0,
  maxRetries: 2,
  sleepMs: 10,
  sleep: () => Promise.resolve(),
  ...extra,
});

/** Each command the runner saw, as its program name, with " test" for a `--test` run. */
const steps = (runner: FakeRunner) =>
  runner.lines().map((l) => l.split(" ")[0] + (l.includes("--test") ? " test" : ""));
const restores = (runner: FakeRunner) =>
  runner.calls.filter((c) => c.cmd.endsWith("-restore") && !c.args.includes("--test"));

Deno.test("applyPlans() tests every family first, then applies removal and new rules in one input", async () => {
  const { runner } = world((_f, _c, live) => {
    live[_f] = NEW_LIVE;
    return ok();
  });
  const report = await applyPlans(runner, [{ exe: exe(4, "legacy"), rulesText: RULES }, {
    exe: exe(6, "legacy"),
    rulesText: RULES,
  }], options());
  assertEquals(steps(runner), [
    "ip4-save",
    "ip6-save",
    "ip4-restore test",
    "ip6-restore test",
    "ip4-restore",
    "ip6-restore",
  ]);
  const input = restores(runner)[0].stdin!;
  assertEquals(input, mergeRestore(planRemoval(parseSave(OLD)), RULES));
  assertEquals(input.split("COMMIT").length, 2);
  assertEquals(report.families.map((f) => [f.family, f.removed.length]), [[4, 3], [6, 3]]);
});

Deno.test("applyPlans() takes each family's first read from the run's dumps, and retries read afresh", async () => {
  let attempts = 0;
  const { runner } = world((family, _c, live) => {
    // IPv4's first real restore loses a race once; the retry must read again.
    if (family === "4" && attempts++ === 0) return fail("iptables-restore: line 2 failed\n");
    live[family] = NEW_LIVE;
    return ok();
  });
  const dumps = new LiveDumps(runner);
  dumps.prefetch([exe(4, "legacy"), exe(6, "legacy")]);
  await dumps.settled();
  await applyPlans(runner, [{ exe: exe(4, "legacy"), rulesText: RULES }, {
    exe: exe(6, "legacy"),
    rulesText: RULES,
  }], options({ dumps }));
  assertEquals(steps(runner), [
    "ip4-save",
    "ip6-save",
    "ip4-restore test",
    "ip6-restore test",
    "ip4-restore",
    "ip4-save",
    "ip4-restore",
    "ip6-restore",
  ]);
  // Taken: whoever reads after the apply reads the changed rules.
  assertEquals((await dumps.read(exe(6, "legacy"))).tables[0].chains[1].rules.length, 1);
  assertEquals(runner.lines().at(-1), "ip6-save");
});

Deno.test("applyPlans() changes nothing when one family fails --test", async () => {
  const runner = new FakeRunner((call) => {
    if (call.cmd.endsWith("-save")) return ok(OLD);
    if (call.cmd === "ip6-restore") return fail("ip6tables-restore: line 3 failed\n");
    return ok();
  });
  const e = await assertRejects(
    () =>
      applyPlans(
        runner,
        [{ exe: exe(4, "legacy"), rulesText: RULES }, { exe: exe(6, "legacy"), rulesText: RULES }],
        options(),
      ),
    ApplyError,
  );
  assertEquals(e.code, "test_failed");
  assertEquals(e.failures.map((f) => f.family), [6]);
  assertEquals(restores(runner).length, 0, "a test failure is not retried and nothing is applied");
});

Deno.test("applyPlans() passes wait flags to legacy only", async () => {
  const { runner } = world(() => ok());
  await applyPlans(runner, [{ exe: exe(4, "legacy"), rulesText: RULES }, {
    exe: exe(6),
    rulesText: RULES_TWO_TABLES,
  }], options());
  const args = runner.calls.filter((c) => c.cmd.endsWith("-restore")).map((
    c,
  ) => [c.cmd, c.args.join(" ")]);
  assertEquals(args, [
    ["ip4-restore", "--wait=5 --noflush --test"],
    ["ip6-restore", "--noflush --test"],
    ["ip4-restore", "--wait=5 --noflush"],
    ["ip6-restore", "--noflush"],
  ]);
});

Deno.test("applyPlans() retries a held lock, re-reading the live rules each time", async () => {
  let n = 0;
  const slept: number[] = [];
  const { runner } = world(() =>
    ++n < 3 ? fail("Another app is currently holding the xtables lock.", 4) : ok()
  );
  await applyPlans(
    runner,
    [{ exe: exe(4, "legacy"), rulesText: RULES }],
    options({
      sleep: (ms) => {
        slept.push(ms);
        return Promise.resolve();
      },
    }),
  );
  assertEquals(slept, [10, 10]);
  assertEquals(runner.calls.filter((c) => c.cmd === "ip4-save").length, 3);
});

Deno.test("applyPlans() rolls IPv4 back to its prior installation when IPv6 fails", async () => {
  const { runner, live } = world((family, call, state) => {
    if (family === "6") return fail("ip6tables-restore: line 2 failed\n");
    state["4"] = call.stdin!.includes(`-I OUTPUT 2 -p tcp ${C("old")}`) ? OLD : NEW_LIVE;
    return ok();
  });
  const e = await assertRejects(
    () =>
      applyPlans(
        runner,
        [{ exe: exe(4), rulesText: RULES }, { exe: exe(6), rulesText: RULES }],
        options(),
      ),
    ApplyError,
  );
  assertEquals(e.code, "apply_failed");
  assertEquals(e.failures.map((f) => f.family), [6]);
  assertEquals(e.rollbacks.map((r) => [r.family, r.changed, r.error]), [[6, false, undefined], [
    4,
    true,
    undefined,
  ]]);
  const rollback = restores(runner).filter((c) => c.cmd === "ip4-restore").at(-1)!.stdin!;
  assertEquals(
    rollback,
    mergeRestore(planRemoval(parseSave(NEW_LIVE)), recreateText(parseSave(OLD))),
  );
  assertStringIncludes(rollback, `-I OUTPUT 2 -p tcp ${C("old")} -j KUMA_MESH_OUTBOUND`);
  assertEquals(live["4"], OLD);
  assertStringIncludes(e.message, "IPv4 rolled back to its prior state");
});

Deno.test("applyPlans() finishes the step in progress on abort, then rolls back", async () => {
  const ac = new AbortController();
  const { runner, live } = world((family, call, state) => {
    ac.abort(); // SIGINT arrives while IPv4 is being applied
    state[family] = call.stdin!.includes(`-I OUTPUT 2 -p tcp ${C("old")}`) ? OLD : NEW_LIVE;
    return ok();
  });
  const e = await assertRejects(
    () =>
      applyPlans(
        runner,
        [{ exe: exe(4), rulesText: RULES }, { exe: exe(6), rulesText: RULES }],
        options({ signal: ac.signal }),
      ),
    ApplyError,
  );
  assertEquals(e.code, "aborted");
  assertEquals(
    restores(runner).map((c) => c.cmd),
    ["ip4-restore", "ip4-restore"],
    "IPv6 never applied",
  );
  assertEquals(e.rollbacks.map((r) => [r.family, r.changed]), [[4, true]]);
  assertEquals(live["4"], OLD);
});

Deno.test("applyPlans() rolls every family back when the persist step fails", async () => {
  const { runner, live } = world((family, call, state) => {
    state[family] = call.stdin!.includes(`-I OUTPUT 2 -p tcp ${C("old")}`) ? OLD : NEW_LIVE;
    return ok();
  });
  let seen: Record<string, string> = {};
  const e = await assertRejects(
    () =>
      applyPlans(
        runner,
        [{ exe: exe(4), rulesText: RULES }, { exe: exe(6), rulesText: RULES }],
        options({
          persist: () => {
            seen = { ...live };
            return Promise.reject(new Error("EPERM: direct.xml is immutable"));
          },
        }),
      ),
    ApplyError,
  );
  assertEquals(seen, { "4": NEW_LIVE, "6": NEW_LIVE }, "persist runs after every family");
  assertEquals(e.code, "persist_failed");
  assertEquals((e.cause as Error).message, "EPERM: direct.xml is immutable");
  assertEquals(e.rollbacks.map((r) => [r.family, r.changed, r.error]), [[6, true, undefined], [
    4,
    true,
    undefined,
  ]]);
  assertEquals(live, { "4": OLD, "6": OLD });
  assertStringIncludes(
    e.message,
    "the rules were applied, but storing them failed (EPERM: direct.xml is immutable), so the " +
      "kernel was rolled back to the rules it had before; IPv6 rolled back to its prior state; IPv4 rolled back",
  );
});

Deno.test("applyPlans() refuses an unsafe state before running any restore", async () => {
  const unsafe =
    "*nat\n:OUTPUT ACCEPT\n:KUMA_MESH_OUTBOUND -\n-A OUTPUT -j KUMA_MESH_OUTBOUND\nCOMMIT\n";
  const runner = new FakeRunner((call) => ok(call.cmd.endsWith("-save") ? unsafe : ""));
  await assertRejects(
    () => applyPlans(runner, [{ exe: exe(4), rulesText: RULES }], options()),
    UnsafeStateError,
  );
  assert(runner.calls.every((c) => c.cmd.endsWith("-save")));
});

Deno.test("applyPlans() plans again when --test fails because our rules changed meanwhile", async () => {
  // Read: nothing of ours. Then another tool installs OLD; the first --test
  // fails on `-N KUMA_MESH_OUTBOUND` (the chain exists now).
  let saves = 0;
  let tests = 0;
  const runner = new FakeRunner((call) => {
    if (call.cmd.endsWith("-save")) {
      return ok(saves++ === 0 ? "*nat\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n" : OLD);
    }
    if (call.args.includes("--test")) {
      return tests++ === 0 ? fail("iptables-restore: line 2 failed") : ok();
    }
    return ok();
  });
  const report = await applyPlans(runner, [{ exe: exe(4, "legacy"), rulesText: RULES }], options());
  assertEquals(tests, 2);
  // The second plan removes what the other tool installed.
  const applied = runner.calls.filter((c) => c.cmd === "ip4-restore" && !c.args.includes("--test"));
  assertStringIncludes(applied[0].stdin ?? "", "-X KUMA_MESH_OUTBOUND");
  assertEquals(report.families[0].removed.length > 0, true);
});

Deno.test("applyPlans() reports a --test failure as it is when the rules did not change", async () => {
  const runner = new FakeRunner((call) => {
    if (call.cmd.endsWith("-save")) return ok(OLD);
    if (call.args.includes("--test")) return fail("iptables-restore: line 3 failed");
    return ok();
  });
  const e = await assertRejects(
    () => applyPlans(runner, [{ exe: exe(4, "legacy"), rulesText: RULES }], options()),
    ApplyError,
  );
  assertEquals(e.code, "test_failed");
  assertEquals(runner.calls.filter((c) => c.args.includes("--test")).length, 1);
});

Deno.test("applyPlans() tests nft families side by side, legacy ones in turn, and logs family by family", async () => {
  for (const mode of ["nft", "legacy"] as const) {
    const events: string[] = [];
    let v6Started!: () => void;
    const v6 = new Promise<void>((resolve) => v6Started = resolve);
    const runner = new FakeRunner(async (call) => {
      if (call.cmd.endsWith("-save")) return ok(OLD);
      if (!call.args.includes("--test")) return ok();
      events.push(`${call.cmd} start`);
      if (call.cmd === "ip6-restore") v6Started();
      // IPv4's test waits a moment for IPv6's to start: it does only side by side.
      else await Promise.race([v6, new Promise((r) => setTimeout(r, 20))]);
      events.push(`${call.cmd} end`);
      return ok();
    });
    const lines: string[] = [];
    await applyPlans(
      runner,
      [{ exe: exe(4, mode), rulesText: RULES_TWO_TABLES }, {
        exe: exe(6, mode),
        rulesText: RULES_TWO_TABLES,
      }],
      options({ log: (l) => lines.push(l) }),
    );
    assertEquals(
      events,
      mode === "nft"
        ? ["ip4-restore start", "ip6-restore start", "ip6-restore end", "ip4-restore end"]
        : ["ip4-restore start", "ip4-restore end", "ip6-restore start", "ip6-restore end"],
      mode,
    );
    assertEquals(lines.slice(0, 2).map((l) => l.split(" ")[0]), ["[iptables]", "[ip6tables]"]);
  }
});

Deno.test("applyPlans() applies nft families of one table without --test: each restore is one kernel transaction", async () => {
  const { runner } = world((family, _c, live) => {
    live[family] = NEW_LIVE;
    return ok();
  });
  await applyPlans(
    runner,
    [{ exe: exe(4), rulesText: RULES }, { exe: exe(6), rulesText: RULES }],
    options(),
  );
  assertEquals(steps(runner), ["ip4-save", "ip6-save", "ip4-restore", "ip6-restore"]);
});

Deno.test("applyPlans() reports a one-table nft restore the kernel refuses as rejected, with nothing changed and no retry", async () => {
  const { runner } = world(() => fail("iptables-restore: line 3 failed\n"));
  const e = await assertRejects(
    () =>
      applyPlans(
        runner,
        [{ exe: exe(4), rulesText: RULES }, { exe: exe(6), rulesText: RULES }],
        options(),
      ),
    ApplyError,
  );
  assertEquals(e.code, "test_failed");
  assertStringIncludes(e.message, "rejected by iptables-restore, nothing was changed");
  assertEquals(e.failures.map((f) => f.family), [4]);
  assertEquals(e.rollbacks, []);
  // One real restore, then a fresh read that finds our rules as they were.
  assertEquals(steps(runner), ["ip4-save", "ip6-save", "ip4-restore", "ip4-save"]);
});

Deno.test("applyPlans() plans a one-table nft restore again when it failed because our rules changed meanwhile", async () => {
  // Read: nothing of ours. Then another tool installs OLD; the restore fails
  // on `-N KUMA_MESH_OUTBOUND`, the fresh read shows the race, the retry
  // removes OLD first.
  let saves = 0;
  let restoresRun = 0;
  const runner = new FakeRunner((call) => {
    if (call.cmd.endsWith("-save")) {
      return ok(saves++ === 0 ? "*nat\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n" : OLD);
    }
    return restoresRun++ === 0 ? fail("iptables-restore: line 2 failed") : ok();
  });
  const report = await applyPlans(runner, [{ exe: exe(4), rulesText: RULES }], options());
  assertEquals(restoresRun, 2);
  assertStringIncludes(restores(runner)[1].stdin ?? "", "-X KUMA_MESH_OUTBOUND");
  assertEquals(report.families[0].removed.length, 0, "the plan's own read had nothing of ours");
});

Deno.test("applyPlans() rolls back a one-table nft retry that the kernel refuses after an earlier attempt committed a table", async () => {
  // The old installation also has a raw rule (DNS); the new rules are nat
  // only. Attempt 1 (raw removal, then nat) commits raw and is refused at
  // nat; attempt 2 reads nat only (one table) and is refused again. The
  // family is no longer as it was: it must be rolled back, raw rule and all.
  const WITH_DNS =
    `*raw\n:OUTPUT ACCEPT [0:0]\n-A OUTPUT -p udp ${C("dns")} -j CT --zone 1\nCOMMIT\n` +
    OLD;
  const live: Record<string, string> = { "4": WITH_DNS };
  const runner = new FakeRunner((call) => {
    if (call.cmd.endsWith("-save")) return ok(live["4"]);
    if (call.args.includes("--test")) return ok();
    const stdin = call.stdin!;
    if (/-I OUTPUT \d+ -p udp/.test(stdin)) {
      live["4"] = WITH_DNS; // the rollback re-creates the raw rule
      return ok();
    }
    if (stdin.includes("*raw")) live["4"] = OLD; // raw committed, nat refused
    return fail("iptables-restore: line 3 failed\n", 4);
  });
  const e = await assertRejects(
    () => applyPlans(runner, [{ exe: exe(4), rulesText: RULES }], options()),
    ApplyError,
  );
  assertEquals(e.code, "apply_failed");
  assertEquals(e.rollbacks.map((r) => [r.family, r.changed, r.error]), [[4, true, undefined]]);
  assertEquals(live["4"], WITH_DNS);
});

Deno.test("applyPlans() retries a one-table nft restore cut short by a signal or a busy kernel, as any failure", async () => {
  for (const failure of [fail("", 130), fail("iptables-restore: Device or resource busy\n", 4)]) {
    let n = 0;
    const { runner } = world((family, _c, live) => {
      if (family === "4" && n++ === 0) return failure;
      live[family] = NEW_LIVE;
      return ok();
    });
    await applyPlans(runner, [{ exe: exe(4), rulesText: RULES }], options());
    assertEquals(restores(runner).length, 2);
  }
});

Deno.test("applyPlans() rolls back, not rejects, when an interrupt cut a one-table nft restore short", async () => {
  const ac = new AbortController();
  const { runner, live } = world(() => {
    ac.abort(); // Ctrl-C reaches the restore too: it dies of SIGINT
    return fail("", 130);
  });
  const e = await assertRejects(
    () =>
      applyPlans(
        runner,
        [{ exe: exe(4), rulesText: RULES }],
        options({ signal: ac.signal, maxRetries: 0 }),
      ),
    ApplyError,
  );
  assertEquals(e.code, "apply_failed");
  assertEquals(live["4"], OLD);
});
