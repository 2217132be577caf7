/**
 * storeWithFirewalld() / removeFromFirewalld() against a real firewalld 1.3
 * on a private bus in a network namespace (tests/world/firewalld.ts).
 */
import { assert, assertEquals, assertRejects } from "../assert.ts";
import { type DirectEntry, isOurEntry } from "../../src/firewalld/direct_entries.ts";
import { directXmlEntries } from "../../src/firewalld/direct_xml.ts";
import { FirewalldError } from "../../src/firewalld/errors.ts";
import {
  firewalldState,
  removeFromFirewalld,
  storeWithFirewalld,
} from "../../src/firewalld/persist.ts";
import type { RuleSet } from "../../src/rules/model.ts";
import { dualStackRuleSets, natRuleSet } from "../unit/firewalld/_fixtures.ts";
import { chainComments, type FirewalldWorld, withFirewalld } from "../world/firewalld.ts";

const FOREIGN = Deno.readTextFileSync(
  new URL("../testdata/firewalld/foreign_valid.xml", import.meta.url),
);
const foreignEntries = () => directXmlEntries(FOREIGN);
// The real renderer (src/rules/render.ts ruleArgs), the default.
const options = {};

/** Comments of `chain` in generated order: inserted rules first, then appended ones. */
function expected(ruleSet: RuleSet, chain: string): string[] {
  const rules = ruleSet.tables.flatMap((t) => t.rules).filter((r) => r.chain === chain);
  return [...rules.filter((r) => r.insert), ...rules.filter((r) => !r.insert)].map((r) =>
    r.comment
  );
}

/** Our rules are in the kernel, in generated order, next to the foreign ones. */
async function assertRulesApplied(world: FirewalldWorld, when: string): Promise<void> {
  for (const family of [4, 6] as const) {
    const save = await world.save(family);
    const ruleSet = natRuleSet(family);
    for (
      const chain of [
        "PREROUTING",
        "KUMA_MESH_INBOUND",
        "KUMA_MESH_OUTBOUND",
        "KUMA_MESH_OUTBOUND_REDIRECT",
      ]
    ) {
      assertEquals(
        chainComments(save, chain),
        expected(ruleSet, chain),
        `${when}: IPv${family} ${chain}`,
      );
    }
    const output = expected(ruleSet, "OUTPUT");
    // The foreign priority-0 rule sits after our inserted (-1) rule and before our appended (0) one.
    assertEquals(
      chainComments(save, "OUTPUT"),
      family === 4 ? [output[0], "ops: bypass", output[1]] : output,
      `${when}: IPv${family} OUTPUT`,
    );
  }
  assertForeignApplied(await world.save(4, "filter"), when);
}

function assertForeignApplied(filterSave: string, when: string): void {
  assertEquals(chainComments(filterSave, "INPUT"), ["ops: node exporter"], when);
  assert(filterSave.includes("-A OPS_ALLOW -j ACCEPT"), `${when}: foreign OPS_ALLOW chain`);
}

async function permanentForeign(world: FirewalldWorld): Promise<DirectEntry[]> {
  const bus = world.connect();
  try {
    const p = await bus.getPermanent();
    return [...p.chains, ...p.rules, ...p.passthroughs].filter((e) => !isOurEntry(e));
  } finally {
    bus.close();
  }
}

const sortByKind = (entries: DirectEntry[]) =>
  ["chain", "rule", "passthrough"].flatMap((k) => entries.filter((e) => e.kind === k));

Deno.test("storeWithFirewalld() rules apply in generated order and survive reload, restart and reboot", () =>
  withFirewalld({ tag: "fwd", directXml: FOREIGN }, async (world) => {
    assertEquals(await world.start(), "running");
    const bus = world.connect();
    try {
      const report = await storeWithFirewalld(
        { bus, runner: world.ns.runner },
        dualStackRuleSets(),
        options,
      );
      assertEquals(report.mechanism, "dbus");
      assertEquals(report.added.length, 34);
    } finally {
      bus.close();
    }
    await assertRulesApplied(world, "after store");
    assertEquals(await permanentForeign(world), sortByKind(foreignEntries()));
    await world.reload();
    await assertRulesApplied(world, "after firewall-cmd --reload");
    await world.stop();
    assertEquals(await world.start(), "running");
    await assertRulesApplied(world, "after a firewalld restart");
    assertEquals(await world.reboot(), "running");
    await assertRulesApplied(world, "after a simulated reboot");
    // firewalld rewrote direct.xml; the foreign entries in it are unchanged.
    const onDisk = directXmlEntries(await Deno.readTextFile(world.directXmlPath));
    assertEquals(onDisk.filter((e) => !isOurEntry(e)), sortByKind(foreignEntries()));
  }));

Deno.test("removeFromFirewalld() with firewalld running removes only our permanent and runtime entries", () =>
  withFirewalld({ tag: "fwr", directXml: FOREIGN }, async (world) => {
    await world.start();
    const bus = world.connect();
    try {
      await storeWithFirewalld({ bus, runner: world.ns.runner }, dualStackRuleSets(), options);
      const report = await removeFromFirewalld({ bus }, { directXmlPath: world.directXmlPath });
      assertEquals(report.mechanism, "dbus");
      assertEquals(report.removed.permanent.length, 34);
      assertEquals(report.removed.runtime.length, 34);
      const state = await firewalldState({ bus }, { directXmlPath: world.directXmlPath });
      assertEquals([state.permanent, state.runtime, state.directXml], [[], [], []]);
    } finally {
      bus.close();
    }
    for (const when of ["after remove", "after reload"]) {
      if (when === "after reload") await world.reload();
      assert(!(await world.save(4)).includes("KUMA_MESH"), when);
      assert(!(await world.save(6)).includes("KUMA_MESH"), when);
      assertEquals(chainComments(await world.save(4), "OUTPUT"), ["ops: bypass"], when);
      assertForeignApplied(await world.save(4, "filter"), when);
      assert(
        (await world.save(6, "raw")).includes("--dport 4789 -j NOTRACK"),
        `${when}: passthrough`,
      );
    }
    assertEquals(await permanentForeign(world), sortByKind(foreignEntries()));
  }));

/** The IPv4 nat rule set plus a rule that iptables-restore --test accepts but firewalld cannot apply. */
function withBrokenJump(): RuleSet {
  const ruleSet = natRuleSet(4);
  ruleSet.tables[0].rules.push({
    chain: "KUMA_MESH_OUTBOUND_REDIRECT",
    insert: false,
    comment: "jump to a chain nobody created",
    params: [{ name: "jump", value: "KUMA_MESH_MISSING" }],
  });
  return ruleSet;
}

Deno.test("storeWithFirewalld() restores firewalld's previous direct config when firewalld refuses a rule", () =>
  withFirewalld({ tag: "fwb", directXml: FOREIGN }, async (world) => {
    await world.start();
    const bus = world.connect();
    try {
      const deps = { bus, runner: world.ns.runner };
      await storeWithFirewalld(deps, dualStackRuleSets(), options);
      const permanentBefore = await bus.getPermanent();
      const runtimeBefore = [...await bus.getRuntimeChains(), ...await bus.getRuntimeRules()];
      const e = await assertRejects(
        () => storeWithFirewalld(deps, [withBrokenJump()], options),
        FirewalldError,
      );
      assertEquals(e.code, "rejected", e.message);
      assertEquals(e.firewalldCode, "COMMAND_FAILED");
      assertEquals(await bus.getPermanent(), permanentBefore);
      const runtimeAfter = [...await bus.getRuntimeChains(), ...await bus.getRuntimeRules()];
      assertEquals(sortByKind(runtimeAfter), sortByKind(runtimeBefore));
    } finally {
      bus.close();
    }
    await assertRulesApplied(world, "after the refused store");
    await world.reload();
    assertEquals((await world.firewallCmd(["--state"])).stdout.trim(), "running");
    await assertRulesApplied(world, "after reload");
  }));

Deno.test("storeWithFirewalld() refuses rules iptables-restore --test rejects before firewalld sees them", () =>
  withFirewalld({ tag: "fwv", directXml: FOREIGN }, async (world) => {
    await world.start();
    const ruleSet = natRuleSet(6);
    ruleSet.tables[0].rules.push({
      chain: "OUTPUT",
      insert: false,
      comment: "bad option",
      params: [{ name: "protocol", value: "tcp" }, { name: "no-such-option", value: "1" }],
    });
    const bus = world.connect();
    try {
      const before = await bus.getPermanent();
      const e = await assertRejects(
        () =>
          storeWithFirewalld({ bus, runner: world.ns.runner }, [natRuleSet(4), ruleSet], options),
        FirewalldError,
      );
      assertEquals(e.code, "invalid_rules");
      assert(e.stderr?.includes("no-such-option"), e.stderr);
      assertEquals(await bus.getPermanent(), before);
      assertEquals(await bus.getRuntimeChains(), before.chains);
    } finally {
      bus.close();
    }
    assert(!(await world.save(4)).includes("KUMA_MESH"));
  }));
