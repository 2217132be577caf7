/**
 * Install, re-install, uninstall, rollback and refusal against real iptables
 * (nft and legacy, IPv4 and IPv6) in throw-away network namespaces.
 */
import {
  assert,
  assertEquals,
  assertNotEquals,
  assertRejects,
  assertStringIncludes,
} from "../assert.ts";
import { ExecError, UnsafeStateError } from "../../src/iptables/errors.ts";
import { readDump } from "../../src/iptables/executables.ts";
import { planRemoval } from "../../src/iptables/cleanup.ts";
import { restoreOnce } from "../../src/iptables/restore_exec.ts";
import { mergeRestore } from "../../src/iptables/restore_text.ts";
import { ourRuleLines } from "../../src/iptables/save_parser.ts";
import { ApplyError, applyPlans } from "../../src/iptables/transaction.ts";
import { readInstalled, uninstallAll } from "../../src/iptables/uninstall.ts";
import { withNetns } from "../world/netns.ts";
import {
  FAST,
  foreignRules,
  kumaRules,
  load,
  MODES,
  snapshot,
  tools,
} from "./iptables_fixtures.ts";

/** One table's part of a snapshot. */
function section(snap: string, table: string): string {
  const start = snap.indexOf(`*${table}\n`);
  assert(start >= 0, `no table ${table}`);
  return snap.slice(start, snap.indexOf("COMMIT", start));
}

const NEW = { dnsPort: 15053, mangle: true };
const OLD = { dnsPort: 15054, mangle: false };

for (const mode of MODES) {
  const v4 = tools(mode, 4);
  const v6 = tools(mode, 6);

  Deno.test(`applyPlans() install, re-install and uninstall keep foreign rules intact (${mode})`, async () => {
    await withNetns(`ap${mode[0]}`, async (ns) => {
      await load(ns, v4, foreignRules(4));
      await load(ns, v6, foreignRules(6));
      const start = [await snapshot(ns, v4), await snapshot(ns, v6)];

      const plans = (o: typeof NEW) => [
        { exe: v4, rulesText: kumaRules(4, o) },
        { exe: v6, rulesText: kumaRules(6, o) },
      ];
      await applyPlans(ns.runner, plans(OLD), FAST);
      const firstOld = ourRuleLines(await readDump(ns.runner, v4), { positions: true });
      const installed = await readInstalled(ns.runner, v4);
      assert(installed.installed);
      assert(installed.ourRules.some((l) => l.includes("--to-ports 15054")));
      assertNotEquals(await snapshot(ns, v4), start[0]);

      // Re-install with a different rule set replaces the old one completely.
      const report = await applyPlans(ns.runner, plans(NEW), FAST);
      assert(report.families[0].removed.some((l) => l.includes("15054")));
      const after = await readInstalled(ns.runner, v6);
      assertEquals(after.ourRules.some((l) => l.includes("15054")), false);
      assert(after.ourRules.some((l) => l.startsWith("-t mangle -A PREROUTING")));

      // Going back to the old set gives exactly the first state: re-runs are idempotent.
      await applyPlans(ns.runner, plans(OLD), FAST);
      await applyPlans(ns.runner, plans(OLD), FAST);
      assertEquals(ourRuleLines(await readDump(ns.runner, v4), { positions: true }), firstOld);

      // Our inserts sit above foreign rules, our appends below them.
      const nat = section(await snapshot(ns, v4), "nat").split("\n").filter((l) =>
        l.startsWith("-A OUTPUT")
      );
      assertStringIncludes(nat[0], "return early for DNS traffic");
      assertStringIncludes(nat[2], "--dport 9999");

      const removed = await uninstallAll(ns.runner, [v4, v6], FAST);
      assert(removed.backends.every((b) => b.removed.length > 0));
      assertEquals([await snapshot(ns, v4), await snapshot(ns, v6)], start);
      assertEquals((await readInstalled(ns.runner, v4)).installed, false);
    });
  });

  Deno.test(`uninstallAll() removes a kumactl-installed rule set and nothing else (${mode})`, async () => {
    await withNetns(`kc${mode[0]}`, async (ns) => {
      await load(ns, v4, foreignRules(4));
      await load(ns, v6, foreignRules(6));
      const start = [await snapshot(ns, v4), await snapshot(ns, v6)];
      const dir = new URL("../testdata/kuma-goldens/", import.meta.url);
      for (const exe of [v4, v6]) {
        const name = `debian-12-with-multiple-flags.${
          exe.family === 4 ? "iptables" : "ip6tables"
        }-nft.golden`;
        const golden = (await Deno.readTextFile(new URL(name, dir))).replaceAll(
          "ifPlaceholder",
          "lo",
        );
        await load(ns, exe, golden);
      }
      const loaded = await readInstalled(ns.runner, v4);
      assert(loaded.ourRules.length > 30, "the kumactl rule set is live");

      const dry = await uninstallAll(ns.runner, [v4, v6], { ...FAST, dryRun: true });
      assert(dry.backends[0].removed.includes("-t nat -X KUMA_MESH_OUTBOUND"));
      assertNotEquals(await snapshot(ns, v4), start[0], "dry-run changes nothing");

      await uninstallAll(ns.runner, [v4, v6], FAST);
      assertEquals([await snapshot(ns, v4), await snapshot(ns, v6)], start);
    });
  });

  Deno.test(`applyPlans() rolls IPv4 back to the older installation when IPv6 fails (${mode})`, async () => {
    await withNetns(`rb${mode[0]}`, async (ns) => {
      const dir = await Deno.makeTempDir({ prefix: "ktp-fake-" });
      try {
        await load(ns, v4, foreignRules(4));
        await load(ns, v6, foreignRules(6));
        await applyPlans(ns.runner, [{ exe: v4, rulesText: kumaRules(4, OLD) }, {
          exe: v6,
          rulesText: kumaRules(6, OLD),
        }], FAST);
        const before = [await snapshot(ns, v4), await snapshot(ns, v6)];

        // Passes --test through to the real tool, fails every real restore.
        const fake = `${dir}/ip6tables-restore`;
        await Deno.writeTextFile(
          fake,
          `#!/bin/sh\ncase "$*" in *--test*) exec ${v6.restore} "$@";; esac\necho "fake ip6tables-restore: refusing" >&2\nexit 1\n`,
        );
        await Deno.chmod(fake, 0o755);

        const e = await assertRejects(
          () =>
            applyPlans(ns.runner, [
              { exe: v4, rulesText: kumaRules(4, NEW) },
              { exe: { ...v6, restore: fake }, rulesText: kumaRules(6, NEW) },
            ], FAST),
          ApplyError,
        );
        assertEquals(e.code, "apply_failed");
        assertEquals(e.failures.map((f) => f.family), [6]);
        assertStringIncludes((e.failures[0].error as ExecError).stderr, "refusing");
        assertEquals(e.rollbacks.map((r) => [r.family, r.changed, r.error]), [
          [6, false, undefined],
          [4, true, undefined],
        ]);
        assertEquals([await snapshot(ns, v4), await snapshot(ns, v6)], before);
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    });
  });

  Deno.test(`applyPlans() keeps the old installation when a rule is bad (${mode})`, async () => {
    await withNetns(`bd${mode[0]}`, async (ns) => {
      await load(ns, v4, foreignRules(4));
      await applyPlans(ns.runner, [{ exe: v4, rulesText: kumaRules(4, OLD) }], FAST);
      const before = await snapshot(ns, v4);
      const bad = kumaRules(4, NEW).replace(
        "-A KUMA_MESH_OUTBOUND_REDIRECT",
        "-A KUMA_MESH_OUTBOUND_REDIRECT -m nosuchmatch -j RETURN\n-A KUMA_MESH_OUTBOUND_REDIRECT",
      );

      const e = await assertRejects(
        () => applyPlans(ns.runner, [{ exe: v4, rulesText: bad }], FAST),
        ApplyError,
      );
      assertEquals(e.code, "test_failed");
      const cause = e.failures[0].error as ExecError;
      assertEquals(cause.code, "missing_module");
      assertEquals(cause.rule, "-A KUMA_MESH_OUTBOUND_REDIRECT -m nosuchmatch -j RETURN");
      assertEquals(await snapshot(ns, v4), before);

      // Without the --test guard, the merged nat table still switches all or nothing.
      const merged = mergeRestore(planRemoval(await readDump(ns.runner, v4)), bad);
      await assertRejects(() => restoreOnce(ns.runner, v4, merged, FAST), ExecError);
      assertEquals(section(await snapshot(ns, v4), "nat"), section(before, "nat"));
    });
  });

  if (mode === "nft") {
    // One table per family: applied without --test (oneTransaction). The
    // REDIRECT in nat INPUT passes iptables' parser and `--test` alike
    // (checked with 1.8.9: exit 0), and the kernel refuses it at COMMIT
    // ("RULE_APPEND failed (Invalid argument)"): the batch is refused whole.
    const natOnly = (port: number, bad = false) =>
      `*nat\n-N KUMA_MESH_OUTBOUND\n` +
      `-A OUTPUT -p tcp -m comment --comment "kuma/mesh/transparent/proxy/out" -j KUMA_MESH_OUTBOUND\n` +
      `-A KUMA_MESH_OUTBOUND -p tcp -j REDIRECT --to-ports ${port}\n` +
      (bad
        ? `-A INPUT -p tcp -m comment --comment "kuma/mesh/transparent/proxy/bad" -j REDIRECT --to-ports 1\n`
        : "") +
      "COMMIT\n";

    Deno.test("applyPlans() reports a one-table rule set the kernel refuses as rejected and changes nothing (nft)", async () => {
      await withNetns("kr", async (ns) => {
        await load(ns, v4, foreignRules(4));
        await applyPlans(ns.runner, [{ exe: v4, rulesText: natOnly(15001) }], FAST);
        const before = await snapshot(ns, v4);
        const e = await assertRejects(
          () => applyPlans(ns.runner, [{ exe: v4, rulesText: natOnly(15002, true) }], FAST),
          ApplyError,
        );
        assertEquals(e.code, "test_failed");
        assertStringIncludes((e.failures[0].error as ExecError).stderr, "Invalid argument");
        assertEquals(await snapshot(ns, v4), before);
      });
    });

    Deno.test("applyPlans() rolls IPv4 back when the kernel refuses IPv6's one-table rule set (nft)", async () => {
      await withNetns("k6", async (ns) => {
        await load(ns, v4, foreignRules(4));
        await load(ns, v6, foreignRules(6));
        await applyPlans(ns.runner, [
          { exe: v4, rulesText: natOnly(15001) },
          { exe: v6, rulesText: natOnly(15001) },
        ], FAST);
        const before = [await snapshot(ns, v4), await snapshot(ns, v6)];
        const e = await assertRejects(
          () =>
            applyPlans(ns.runner, [
              { exe: v4, rulesText: natOnly(15002) },
              { exe: v6, rulesText: natOnly(15002, true) },
            ], FAST),
          ApplyError,
        );
        assertEquals(e.code, "apply_failed");
        assertEquals(e.failures.map((f) => f.family), [6]);
        assertEquals(e.rollbacks.map((r) => [r.family, r.changed, r.error]), [
          [6, false, undefined],
          [4, true, undefined],
        ]);
        assertEquals([await snapshot(ns, v4), await snapshot(ns, v6)], before);
      });
    });
  }

  Deno.test(`applyPlans() and uninstallAll() refuse unsafe states and change nothing (${mode})`, async () => {
    await withNetns(`us${mode[0]}`, async (ns) => {
      await load(ns, v4, foreignRules(4));
      await load(
        ns,
        v4,
        "*nat\n:KUMA_MESH_OUTBOUND - [0:0]\n-A OUTPUT -p tcp -j KUMA_MESH_OUTBOUND\n-A KUMA_MESH_OUTBOUND -j RETURN\nCOMMIT\n",
      );
      const before = await snapshot(ns, v4);
      const e = await assertRejects(
        () => applyPlans(ns.runner, [{ exe: v4, rulesText: kumaRules(4, NEW) }], FAST),
        UnsafeStateError,
      );
      assertEquals(e.code, "missing_comments");
      assertEquals(await snapshot(ns, v4), before);
    });
    await withNetns(`uj${mode[0]}`, async (ns) => {
      await applyPlans(ns.runner, [{ exe: v4, rulesText: kumaRules(4, NEW) }], FAST);
      await load(
        ns,
        v4,
        "*nat\n-A PREROUTING -p udp -m comment --comment admin -j KUMA_MESH_INBOUND\nCOMMIT\n",
      );
      const before = await snapshot(ns, v4);
      const e = await assertRejects(() => uninstallAll(ns.runner, [v4], FAST), UnsafeStateError);
      assertEquals(e.code, "foreign_jump");
      assertEquals(
        e.subject,
        "-A PREROUTING -p udp -m comment --comment admin -j KUMA_MESH_INBOUND",
      );
      assertEquals(await snapshot(ns, v4), before);
    });
  });
}
