/**
 * storeInDirectXml() / removeFromFirewalld() with firewalld stopped, then
 * started, against a real firewalld 1.3 in a namespace (tests/world/firewalld.ts).
 */
import { assert, assertEquals, assertRejects } from "../assert.ts";
import { isOurEntry } from "../../src/firewalld/direct_entries.ts";
import { directXmlEntries } from "../../src/firewalld/direct_xml.ts";
import { OLD_BACKUP_SUFFIX } from "../../src/firewalld/direct_xml_file.ts";
import { FirewalldError } from "../../src/firewalld/errors.ts";
import {
  firewalldState,
  removeFromFirewalld,
  storeInDirectXml,
  storeWithFirewalld,
} from "../../src/firewalld/persist.ts";
import { dualStackRuleSets, natRuleSet } from "../unit/firewalld/_fixtures.ts";
import { chainComments, withFirewalld } from "../world/firewalld.ts";

const FOREIGN = Deno.readTextFileSync(
  new URL("../testdata/firewalld/foreign_valid.xml", import.meta.url),
);
// The real renderer (src/rules/render.ts ruleArgs), the default.
const options = {};

Deno.test("storeInDirectXml() with firewalld stopped edits direct.xml, and a later start applies it", () =>
  withFirewalld({ tag: "fxs", directXml: FOREIGN }, async (world) => {
    const directXmlPath = world.directXmlPath;
    await Deno.chmod(directXmlPath, 0o640);
    const bus = world.connect();
    try {
      assertEquals(await bus.state(), null);
      const report = await storeInDirectXml(
        { runner: world.ns.runner },
        dualStackRuleSets(),
        { ...options, directXmlPath },
      );
      assertEquals(report.mechanism, "direct.xml");
      const text = await Deno.readTextFile(directXmlPath);
      // Foreign text, comments included, is kept byte for byte ahead of our entries.
      assert(text.startsWith(FOREIGN.slice(0, FOREIGN.indexOf("</direct>"))));
      // No backup of ours: the replacement is atomic (issue 13 item 16).
      await assertRejects(() => Deno.stat(directXmlPath + OLD_BACKUP_SUFFIX), Deno.errors.NotFound);
      assertEquals((await Deno.stat(directXmlPath)).mode! & 0o777, 0o640);
      const state = await firewalldState({ bus }, { directXmlPath });
      assertEquals([state.state, state.directXml?.length], [null, 34]);
    } finally {
      bus.close();
    }
    assert(!(await world.save(4)).includes("KUMA_MESH"), "nothing applied before the start");
    assertEquals(await world.start(), "running");
    for (const family of [4, 6] as const) {
      const ruleSet = natRuleSet(family);
      const rules = ruleSet.tables[0].rules.filter((r) => r.chain === "KUMA_MESH_OUTBOUND");
      assertEquals(
        chainComments(await world.save(family), "KUMA_MESH_OUTBOUND"),
        [...rules.filter((r) => r.insert), ...rules.filter((r) => !r.insert)].map((r) => r.comment),
      );
    }
    assertEquals(chainComments(await world.save(4, "filter"), "INPUT"), ["ops: node exporter"]);
    assert((await world.save(6, "raw")).includes("--dport 4789 -j NOTRACK"));
  }));

Deno.test("removeFromFirewalld() with firewalld stopped removes only ours from direct.xml", () =>
  withFirewalld({ tag: "fxr", directXml: FOREIGN }, async (world) => {
    await world.start();
    let bus = world.connect();
    try {
      await storeWithFirewalld({ bus, runner: world.ns.runner }, dualStackRuleSets(), options);
    } finally {
      bus.close();
    }
    await world.stop();
    bus = world.connect();
    try {
      const report = await removeFromFirewalld({ bus }, { directXmlPath: world.directXmlPath });
      assertEquals(report.mechanism, "direct.xml");
      assertEquals(report.removed.directXml.length, 34);
    } finally {
      bus.close();
    }
    const left = directXmlEntries(await Deno.readTextFile(world.directXmlPath));
    assertEquals(left.filter(isOurEntry), []);
    assertEquals(
      new Set(left.map((e) => JSON.stringify(e))),
      new Set(directXmlEntries(FOREIGN).map((e) => JSON.stringify(e))),
    );
    assertEquals(await world.start(), "running");
    assert(!(await world.save(4)).includes("KUMA_MESH"));
    assert(!(await world.save(6)).includes("KUMA_MESH"));
    assertEquals(chainComments(await world.save(4), "OUTPUT"), ["ops: bypass"]);
  }));

Deno.test("storeInDirectXml() refuses a malformed direct.xml and leaves file and host unchanged", () => {
  const broken = FOREIGN.replace("</direct>", "<rule ipv='ipv4'>\n</direct>");
  return withFirewalld({ tag: "fxm", directXml: broken }, async (world) => {
    const e = await assertRejects(
      () =>
        storeInDirectXml({ runner: world.ns.runner }, dualStackRuleSets(), {
          ...options,
          directXmlPath: world.directXmlPath,
        }),
      FirewalldError,
    );
    assertEquals(e.code, "malformed_direct_xml");
    assertEquals(e.path, world.directXmlPath);
    assertEquals(await Deno.readTextFile(world.directXmlPath), broken);
    const names = [];
    for await (const f of Deno.readDir(world.configDir)) names.push(f.name);
    assertEquals(names.sort(), ["direct.xml", "firewalld.conf"]);
    assertEquals((await world.save(4)).includes("KUMA_MESH"), false);
  });
});
