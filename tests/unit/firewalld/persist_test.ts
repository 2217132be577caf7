import { assert, assertEquals, assertRejects } from "../../assert.ts";
import type { DirectConfig } from "../../../src/firewalld/bus.ts";
import { toDirectEntries } from "../../../src/firewalld/direct_entries.ts";
import { directXmlEntries } from "../../../src/firewalld/direct_xml.ts";
import { EMPTY_DIRECT_XML, renderElement } from "../../../src/firewalld/direct_xml_render.ts";
import { OLD_BACKUP_SUFFIX, readDirectXmlFile } from "../../../src/firewalld/direct_xml_file.ts";
import { FirewalldError } from "../../../src/firewalld/errors.ts";
import {
  firewalldState,
  removeFromFirewalld,
  storeInDirectXml,
  storeWithFirewalld,
} from "../../../src/firewalld/persist.ts";
import { dualStackRuleSets, natRuleSet, stubRuleArgs } from "./_fixtures.ts";
import { FakeBus, FakeRunner } from "./_fake_bus.ts";

const options = { ruleArgs: stubRuleArgs };
const foreign = (): DirectConfig => ({
  chains: [{ kind: "chain", ipv: "ipv4", table: "filter", chain: "OPS" }],
  rules: [{
    kind: "rule",
    ipv: "ipv4",
    table: "filter",
    chain: "OPS",
    priority: 0,
    args: ["-j", "ACCEPT"],
  }],
  passthroughs: [{
    kind: "passthrough",
    ipv: "ipv6",
    args: ["-t", "raw", "-A", "PREROUTING", "-j", "NOTRACK"],
  }],
});
const withOld = (): DirectConfig => {
  const c = foreign();
  c.chains.push({ kind: "chain", ipv: "ipv4", table: "nat", chain: "KUMA_MESH_OLD" });
  c.rules.push({
    kind: "rule",
    ipv: "ipv4",
    table: "nat",
    chain: "OUTPUT",
    priority: 0,
    // Every rule we ever stored carries our comment (a bare jump would be someone else's).
    args: ["-m", "comment", "--comment", "kuma/mesh/transparent/proxy/old", "-j", "KUMA_MESH_OLD"],
  });
  return c;
};

Deno.test("storeWithFirewalld() writes permanent and runtime entries and keeps foreign ones", async () => {
  const bus = new FakeBus(withOld());
  bus.runtimeChains = structuredClone(withOld().chains);
  bus.runtimeRules = structuredClone(withOld().rules);
  const report = await storeWithFirewalld(
    { bus, runner: new FakeRunner() },
    dualStackRuleSets(),
    options,
  );
  const expected = toDirectEntries(dualStackRuleSets(), options);
  assertEquals(report.mechanism, "dbus");
  assertEquals(report.added, expected);
  assertEquals(report.removed.permanent.length, 2);
  assertEquals(bus.permanent.chains.slice(0, 1), foreign().chains);
  assertEquals(bus.permanent.rules.slice(0, 1), foreign().rules);
  assertEquals(bus.permanent.passthroughs, foreign().passthroughs);
  assertEquals([...bus.permanent.chains, ...bus.permanent.rules].length, 2 + expected.length);
  assertEquals(bus.runtimeChains.length, 1 + 8);
  assertEquals(bus.runtimeRules.length, 1 + 26);
  // Old rule out before old chain, new chains in before new rules.
  const firstAddRule = bus.calls.indexOf("addRule");
  assert(bus.calls.indexOf("removeRule") < bus.calls.indexOf("removeChain"));
  assert(bus.calls.lastIndexOf("addChain") < firstAddRule);
});

Deno.test("storeWithFirewalld() run twice leaves runtime entries in place the second time", async () => {
  const bus = new FakeBus();
  const deps = { bus, runner: new FakeRunner() };
  await storeWithFirewalld(deps, dualStackRuleSets(), options);
  bus.calls = [];
  await storeWithFirewalld(deps, dualStackRuleSets(), options);
  assertEquals(bus.calls, ["update"]);
  assertEquals(bus.runtimeRules.length, 26);
});

Deno.test("storeWithFirewalld() validates with iptables-restore --test before touching firewalld", async () => {
  const bus = new FakeBus();
  const runner = new FakeRunner({
    code: 2,
    stdout: "",
    stderr: "iptables-restore: line 3 failed\n",
  });
  const e = await assertRejects(
    () => storeWithFirewalld({ bus, runner }, dualStackRuleSets(), options),
    FirewalldError,
  );
  assertEquals(e.code, "invalid_rules");
  assertEquals(e.stderr, "iptables-restore: line 3 failed\n");
  assertEquals(bus.calls, []);
  assertEquals(runner.runs[0].cmd, "iptables-restore");
  assertEquals(runner.runs[0].args, ["--test"]);
  assert(runner.runs[0].stdin!.startsWith("*nat\n:KUMA_MESH_INBOUND - [0:0]\n"));
});

Deno.test("storeWithFirewalld() checks both families with their own restore command", async () => {
  const runner = new FakeRunner();
  await storeWithFirewalld({ bus: new FakeBus(), runner }, dualStackRuleSets(), options);
  assertEquals(runner.runs.map((r) => r.cmd), ["iptables-restore", "ip6tables-restore"]);
  assert(
    runner.runs[1].stdin!.includes(
      `-A KUMA_MESH_OUTBOUND -s ::6/128 -o lo -j RETURN -m comment --comment "kuma/mesh/transparent/proxy/prevent`,
    ),
  );
});

Deno.test("storeWithFirewalld() restores the previous config when firewalld refuses a rule", async () => {
  const bus = new FakeBus(withOld());
  bus.runtimeChains = structuredClone(withOld().chains);
  bus.runtimeRules = structuredClone(withOld().rules);
  let adds = 0;
  bus.failOn = (op) => op === "addRule" && ++adds === 5;
  const e = await assertRejects(
    () => storeWithFirewalld({ bus, runner: new FakeRunner() }, dualStackRuleSets(), options),
    FirewalldError,
  );
  assertEquals(e.code, "rejected");
  assertEquals(e.firewalldCode, "COMMAND_FAILED");
  assert(e.message.includes("was restored"), e.message);
  assertEquals(bus.permanent, withOld());
  assertEquals(bus.runtimeChains, withOld().chains);
  assertEquals(bus.runtimeRules, withOld().rules);
});

Deno.test("storeWithFirewalld() says so when restoring the previous config fails too", async () => {
  const bus = new FakeBus(foreign());
  let updates = 0;
  bus.failOn = (op) => op === "addRule" || (op === "update" && ++updates === 2);
  const e = await assertRejects(
    () => storeWithFirewalld({ bus, runner: new FakeRunner() }, [natRuleSet(4)], options),
    FirewalldError,
  );
  assertEquals(e.code, "rollback_failed");
});

Deno.test("storeWithFirewalld() refuses when firewalld is not RUNNING", async () => {
  for (const state of [null, "FAILED", "INIT"]) {
    const bus = new FakeBus(undefined, state);
    const e = await assertRejects(
      () => storeWithFirewalld({ bus, runner: new FakeRunner() }, [natRuleSet(4)], options),
      FirewalldError,
    );
    assertEquals(e.code, "not_running");
    assertEquals(bus.calls, []);
  }
});

Deno.test("storeWithFirewalld() refuses rules it could not recognise at uninstall", async () => {
  const bus = new FakeBus();
  const e = await assertRejects(
    () =>
      storeWithFirewalld({ bus, runner: new FakeRunner() }, [natRuleSet(4)], {
        ...options,
        comments: false,
      }),
    FirewalldError,
  );
  assertEquals(e.code, "unidentifiable_entry");
  assertEquals(bus.calls, []);
});

Deno.test("removeFromFirewalld() removes only our permanent and runtime entries", async () => {
  const bus = new FakeBus(foreign());
  bus.runtimeChains = structuredClone(foreign().chains);
  bus.runtimeRules = structuredClone(foreign().rules);
  await storeWithFirewalld({ bus, runner: new FakeRunner() }, dualStackRuleSets(), options);
  const report = await removeFromFirewalld({ bus });
  assertEquals(report.removed.permanent.length, 34);
  assertEquals(report.removed.runtime.length, 34);
  assertEquals(bus.permanent, foreign());
  assertEquals(bus.runtimeChains, foreign().chains);
  assertEquals(bus.runtimeRules, foreign().rules);
  bus.calls = [];
  const again = await removeFromFirewalld({ bus });
  assertEquals(again.removed, { permanent: [], runtime: [], directXml: [] });
  assertEquals(bus.calls, []);
});

async function withDir(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "ktp-fw-persist-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("storeInDirectXml() and removeFromFirewalld() edit direct.xml when firewalld is stopped", () =>
  withDir(async (dir) => {
    const directXmlPath = `${dir}/direct.xml`;
    const original =
      `<?xml version="1.0" encoding="utf-8"?>\n<direct>\n  <!-- ops -->\n  <passthrough ipv="ipv4">-t raw -N OPS</passthrough>\n</direct>\n`;
    await Deno.writeTextFile(directXmlPath, original);
    await Deno.writeTextFile(directXmlPath + OLD_BACKUP_SUFFIX, "left by an earlier version");
    const stored = await storeInDirectXml({ runner: new FakeRunner() }, dualStackRuleSets(), {
      ...options,
      directXmlPath,
    });
    assertEquals(stored.mechanism, "direct.xml");
    assertEquals(stored.added.length, 34);
    // A backup an earlier version left (with our rules) is removed; none is written.
    const names = [];
    for await (const f of Deno.readDir(dir)) names.push(f.name);
    assertEquals(names, ["direct.xml"]);
    const state = await firewalldState({ bus: new FakeBus(undefined, null) }, { directXmlPath });
    assertEquals(state.directXml?.length, 34);
    assertEquals([state.permanent, state.runtime], [null, null]);
    const removed = await removeFromFirewalld({ bus: new FakeBus(undefined, null) }, {
      directXmlPath,
    });
    assertEquals(removed.removed.directXml.length, 34);
    assertEquals(await Deno.readTextFile(directXmlPath), original);
  }));

Deno.test("removeFromFirewalld() deletes a direct.xml left holding only an empty <direct>", () =>
  withDir(async (dir) => {
    const directXmlPath = `${dir}/direct.xml`;
    await storeInDirectXml({ runner: new FakeRunner() }, dualStackRuleSets(), {
      ...options,
      directXmlPath,
    });
    assertEquals(directXmlEntries(await Deno.readTextFile(directXmlPath)).length, 34);
    const removed = await removeFromFirewalld({}, { directXmlPath });
    assertEquals(removed.removed.directXml.length, 34);
    const names = [];
    for await (const f of Deno.readDir(dir)) names.push(f.name);
    assertEquals(names, [], "the file we created is gone");
  }));

Deno.test("removeFromFirewalld() over D-Bus deletes the empty direct.xml firewalld rewrote", () =>
  withDir(async (dir) => {
    const directXmlPath = `${dir}/direct.xml`;
    const bus = new FakeBus();
    await storeWithFirewalld({ bus, runner: new FakeRunner() }, [natRuleSet(4)], options);
    // firewalld writes direct.xml on config.direct.update; after removing ours it is empty.
    await Deno.writeTextFile(directXmlPath, EMPTY_DIRECT_XML);
    const removed = await removeFromFirewalld({ bus }, { directXmlPath });
    assert(removed.removed.permanent.length > 0);
    assertEquals(await readDirectXmlFile(directXmlPath), null);
  }));

Deno.test("storeInDirectXml() leaves a malformed direct.xml unchanged", () =>
  withDir(async (dir) => {
    const directXmlPath = `${dir}/direct.xml`;
    await Deno.writeTextFile(directXmlPath, "<direct><rule>");
    const e = await assertRejects(
      () =>
        storeInDirectXml({ runner: new FakeRunner() }, [natRuleSet(4)], {
          ...options,
          directXmlPath,
        }),
      FirewalldError,
    );
    assertEquals(e.code, "malformed_direct_xml");
    assertEquals(await Deno.readTextFile(directXmlPath), "<direct><rule>");
    const names = [];
    for await (const f of Deno.readDir(dir)) names.push(f.name);
    assertEquals(names, ["direct.xml"]);
  }));

Deno.test("storeInDirectXml() refuses when firewalld's config directory does not exist", () =>
  withDir(async (dir) => {
    const e = await assertRejects(
      () =>
        storeInDirectXml({ runner: new FakeRunner() }, [natRuleSet(4)], {
          ...options,
          directXmlPath: `${dir}/firewalld/direct.xml`,
        }),
      FirewalldError,
    );
    assertEquals(e.code, "not_installed");
  }));

Deno.test("removeFromFirewalld() with no firewalld and no direct.xml removes nothing", () =>
  withDir(async (dir) => {
    const report = await removeFromFirewalld({}, { directXmlPath: `${dir}/direct.xml` });
    assertEquals(report.removed, { permanent: [], runtime: [], directXml: [] });
  }));

Deno.test("firewalldState() reports permanent, runtime and direct.xml entries and a broken direct.xml", () =>
  withDir(async (dir) => {
    const directXmlPath = `${dir}/direct.xml`;
    await Deno.writeTextFile(directXmlPath, "<direct>");
    const bus = new FakeBus(foreign());
    await storeWithFirewalld({ bus, runner: new FakeRunner() }, [natRuleSet(6)], options);
    const state = await firewalldState({ bus }, { directXmlPath });
    assertEquals(state.state, "RUNNING");
    assertEquals(state.permanent?.length, 17);
    assertEquals(state.runtime?.length, 17);
    assertEquals(state.directXml, null);
    assert(state.directXmlError?.includes("not valid direct.xml"));
  }));

Deno.test("storeWithFirewalld() restores the previous permanent config in direct.xml when firewalld leaves the bus", () =>
  withDir(async (dir) => {
    const directXmlPath = `${dir}/direct.xml`;
    const bus = new FakeBus(withOld());
    // firewalld wrote the new permanent config to direct.xml, then died while runtime was updated.
    let added = 0;
    bus.failOn = (op, arg) => {
      if (op === "update") {
        if (bus.currentState === null) return true;
        const p = arg as DirectConfig;
        Deno.writeTextFileSync(
          directXmlPath,
          `<?xml version="1.0" encoding="utf-8"?>\n<direct>\n${
            [...p.chains, ...p.rules].map((e) => `  ${renderElement(e)}\n`).join("")
          }</direct>\n`,
        );
      }
      if (op === "addRule" && ++added === 3) {
        bus.currentState = null;
        return true;
      }
      return false;
    };
    const e = await assertRejects(
      () =>
        storeWithFirewalld({ bus, runner: new FakeRunner() }, dualStackRuleSets(), {
          ...options,
          directXmlPath,
        }),
      FirewalldError,
    );
    assertEquals(e.code, "firewalld_gone");
    assert(
      e.message.includes(
        `Permanent: its previous direct config was restored by rewriting ${directXmlPath}`,
      ),
      e.message,
    );
    const restored = directXmlEntries((await readDirectXmlFile(directXmlPath))!);
    const previous = withOld();
    assertEquals(
      restored.map((x) => JSON.stringify(x)).sort(),
      [...previous.chains, ...previous.rules].map((x) => JSON.stringify(x)).sort(),
    );
  }));

/** Someone else's rule that jumps to our chain (issue 21 item 1). */
const adminJump = () => ({
  kind: "rule" as const,
  ipv: "ipv4" as const,
  table: "nat",
  chain: "PREROUTING",
  priority: -5,
  args: ["-p", "tcp", "--dport", "28", "-j", "KUMA_MESH_OLD"],
});

Deno.test("storeWithFirewalld() and removeFromFirewalld() refuse a foreign jump to our chain, changing nothing", async () => {
  for (const where of ["permanent", "runtime"] as const) {
    const bus = new FakeBus(withOld());
    bus.runtimeChains = structuredClone(withOld().chains);
    bus.runtimeRules = structuredClone(withOld().rules);
    if (where === "permanent") bus.permanent.rules.push(adminJump());
    else bus.runtimeRules.push(adminJump());
    const before = structuredClone([bus.permanent, bus.runtimeChains, bus.runtimeRules]);
    for (
      const run of [
        () => storeWithFirewalld({ bus, runner: new FakeRunner() }, dualStackRuleSets(), options),
        () => removeFromFirewalld({ bus }),
      ]
    ) {
      const e = await assertRejects(run, FirewalldError);
      assertEquals(e.code, "foreign_jump", where);
      assert(e.message.includes(`firewalld's ${where} direct config`), e.message);
      assertEquals(bus.calls, [], `${where}: no call changed firewalld`);
      assertEquals([bus.permanent, bus.runtimeChains, bus.runtimeRules], before);
    }
  }
});

Deno.test("storeInDirectXml() and removeFromFirewalld() refuse a foreign jump in direct.xml, leaving it byte for byte", () =>
  withDir(async (dir) => {
    const directXmlPath = `${dir}/direct.xml`;
    const text = EMPTY_DIRECT_XML.replace(
      "</direct>",
      `  ${renderElement(withOld().chains[1])}\n  ${renderElement(adminJump())}\n</direct>`,
    );
    await Deno.writeTextFile(directXmlPath, text);
    for (
      const run of [
        () =>
          storeInDirectXml({ runner: new FakeRunner() }, dualStackRuleSets(), {
            ...options,
            directXmlPath,
          }),
        () => removeFromFirewalld({}, { directXmlPath }),
      ]
    ) {
      const e = await assertRejects(run, FirewalldError);
      assertEquals(e.code, "foreign_jump");
      assert(e.message.includes(`delete that <rule> from ${directXmlPath}`), e.message);
      assertEquals(await Deno.readTextFile(directXmlPath), text);
    }
  }));
