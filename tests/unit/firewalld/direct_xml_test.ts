import { assert, assertEquals, assertThrows } from "../../assert.ts";
import {
  directXmlEntries,
  editDirectXml,
  parseDirectXml,
} from "../../../src/firewalld/direct_xml.ts";
import {
  EMPTY_DIRECT_XML,
  isEmptyDirectXml,
  renderElement,
} from "../../../src/firewalld/direct_xml_render.ts";
import { type DirectEntry, toDirectEntries } from "../../../src/firewalld/direct_entries.ts";
import { FirewalldError } from "../../../src/firewalld/errors.ts";
import { dualStackRuleSets, stubRuleArgs } from "./_fixtures.ts";
import { assertGolden } from "../../golden.ts";

const readTestdata = (name: string) =>
  Deno.readTextFileSync(new URL(`../../testdata/firewalld/${name}`, import.meta.url));

const ours = () => toDirectEntries(dualStackRuleSets(), { ruleArgs: stubRuleArgs });

Deno.test("editDirectXml() replaces our old entries and keeps foreign elements, comments and order", () => {
  const input = readTestdata("foreign.xml");
  const edit = editDirectXml(input, ours());
  assertGolden("firewalld/foreign.store.golden.xml", edit.text);
  assertEquals(
    edit.removed.map((e) => e.kind === "chain" ? e.chain : e.kind === "rule" && e.chain),
    [
      "KUMA_MESH_OLD",
      "OUTPUT",
      "OUTPUT",
      "KUMA_MESH_OLD",
    ],
  );
  assertEquals(edit.added.length, 34);
});

Deno.test("editDirectXml() with no entries removes only ours", () => {
  const edit = editDirectXml(readTestdata("foreign.xml"), []);
  assertGolden("firewalld/foreign.remove.golden.xml", edit.text);
  assertEquals(edit.removed.length, 4);
  assert(edit.text.includes("<!-- Managed by the ops team: do not reorder. -->"));
  assert(
    edit.text.includes(
      `<unknown-thing owner="ops" note="firewalld ignores this">keep <b>me</b></unknown-thing>`,
    ),
  );
});

Deno.test("editDirectXml() after a store and a remove gives back the foreign-only file", () => {
  const stored = editDirectXml(readTestdata("foreign.xml"), ours()).text;
  const removed = editDirectXml(stored, []).text;
  assertEquals(removed, readTestdata("foreign.remove.golden.xml"));
  assertEquals(editDirectXml(removed, []).removed, []);
});

Deno.test("editDirectXml() creates a new document when there is no direct.xml", () => {
  assertGolden("firewalld/new.golden.xml", editDirectXml(null, ours()).text);
});

Deno.test("editDirectXml() opens a self-closing root and one-line roots", () => {
  const chain: DirectEntry = { kind: "chain", ipv: "ipv4", table: "nat", chain: "KUMA_MESH_X" };
  assertEquals(
    editDirectXml(`<?xml version="1.0"?>\n<direct a="1" />\n`, [chain]).text,
    `<?xml version="1.0"?>\n<direct a="1">\n  <chain ipv="ipv4" table="nat" chain="KUMA_MESH_X"/>\n</direct>\n`,
  );
  assertEquals(
    editDirectXml(`<direct><!-- c --></direct>`, [chain]).text,
    `<direct><!-- c -->\n  <chain ipv="ipv4" table="nat" chain="KUMA_MESH_X"/>\n</direct>`,
  );
});

Deno.test("editDirectXml() refuses malformed XML with code malformed_direct_xml", () => {
  const cases = [
    "",
    "   \n",
    "<direct><rule ipv='ipv4'></direct>",
    "<direct>",
    "<firewall/>",
    "<direct/><direct/>",
    "<direct>&bogus;</direct>",
    "not xml",
    "<direct><chain ipv=ipv4/></direct>",
  ];
  for (const text of cases) {
    const e = assertThrows(() => editDirectXml(text, ours()), FirewalldError);
    assertEquals(e.code, "malformed_direct_xml", JSON.stringify(text));
  }
});

Deno.test("parseDirectXml() reports what firewalld would load, and nulls for what it would not", () => {
  const doc = parseDirectXml(readTestdata("foreign.xml"));
  assertEquals(doc.elements.map((e) => e.name), [
    "chain",
    "rule",
    "rule",
    "passthrough",
    "chain",
    "rule",
    "rule",
    "rule",
    "unknown-thing",
    "rule",
    "rule",
  ]);
  assertEquals(doc.elements[1].entry, {
    kind: "rule",
    ipv: "ipv4",
    table: "filter",
    chain: "INPUT",
    priority: 0,
    args: [
      "-p",
      "tcp",
      "--dport",
      "9100",
      "-m",
      "comment",
      "--comment",
      "node exporter & friends",
      "-j",
      "OPS_ALLOW",
    ],
  });
  assertEquals(doc.elements[8].entry, null);
  assertEquals(doc.elements[9].entry?.kind === "rule" && doc.elements[9].entry.priority, -5);
  // An unbalanced quote: shlex.split refuses it, so it is nobody's entry and stays.
  assertEquals(doc.elements[10].entry, null);
});

Deno.test("renderElement() output reads back as the same entry", () => {
  const entries: DirectEntry[] = [
    ...ours(),
    {
      kind: "rule",
      ipv: "ipv6",
      table: "raw",
      chain: "OUTPUT",
      priority: -3,
      args: ["-m", "comment", "--comment", `a <b> & "c" 'd'`],
    },
    { kind: "passthrough", ipv: "eb", args: ["-t", "nat", "-A", "X", "-j", "ACCEPT"] },
  ];
  const text = `<direct>\n${
    entries.map((e) => "  " + renderElement(e) + "\n").join("")
  }</direct>\n`;
  assertEquals(directXmlEntries(text), entries);
});

Deno.test("isEmptyDirectXml() is true only for an empty config as firewalld or we write it", () => {
  const cases: [string, boolean][] = [
    [EMPTY_DIRECT_XML, true],
    [`<?xml version="1.0" encoding="utf-8"?>\n<direct/>\n`, true],
    ["<direct></direct>", true],
    ["\n<direct>\n\n</direct>\n\n", true],
    ["<direct><!-- ops: keep this file --></direct>", false],
    [`<direct a="1"/>`, false],
    [`<direct>\n  <chain ipv="ipv4" table="nat" chain="X"/>\n</direct>\n`, false],
    [`<?xml version="1.0"?>\n<!-- c -->\n<direct/>`, false],
    ["<direct>text</direct>", false],
    ["", false],
  ];
  for (const [text, empty] of cases) {
    assertEquals(isEmptyDirectXml(text), empty, JSON.stringify(text));
  }
});
