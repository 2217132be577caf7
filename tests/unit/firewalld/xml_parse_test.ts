import { assertEquals, assertThrows } from "../../assert.ts";
import { parseXmlRoot, XmlSyntaxError } from "../../../src/firewalld/_xml_parse.ts";
import { parseDirectXml } from "../../../src/firewalld/direct_xml.ts";
import { FirewalldError } from "../../../src/firewalld/errors.ts";

Deno.test("parseXmlRoot() gives each child's span, attributes and own text in one pass", () => {
  const text = `<?xml version="1.0"?>\n<!-- <rule> in a comment -->\n<direct a="1">\n` +
    `  <rule ipv="ipv4" note="x &gt; y">-j A&amp;B<![CDATA[ <c> ]]></rule>\n` +
    `  <x><y>nested</y>tail</x><chain ipv="ipv6"/>\n</direct>\n`;
  const root = parseXmlRoot(text);
  assertEquals(text.slice(root.start, root.openEnd), `<direct a="1">`);
  assertEquals(text.slice(root.closeStart, root.end), "</direct>");
  assertEquals(
    root.children.map((c) => [c.name, text.slice(c.start, c.end), c.attributes, c.text]),
    [
      [
        "rule",
        `<rule ipv="ipv4" note="x &gt; y">-j A&amp;B<![CDATA[ <c> ]]></rule>`,
        { ipv: "ipv4", note: "x > y" },
        "-j A&B <c> ",
      ],
      ["x", "<x><y>nested</y>tail</x>", {}, "tail"],
      ["chain", `<chain ipv="ipv6"/>`, { ipv: "ipv6" }, ""],
    ],
  );
});

Deno.test("parseXmlRoot() marks a self-closing root with closeStart -1", () => {
  const text = `<direct a="1" />\n`;
  assertEquals(parseXmlRoot(text), {
    name: "direct",
    start: 0,
    openEnd: 16,
    closeStart: -1,
    end: 16,
    children: [],
  });
});

Deno.test("parseDirectXml() points at the real line and column and quotes the line", () => {
  const cases: [string, number, number, string][] = [
    // The truncated file of issue 13 item 4 (xml2js said "Line: 0, Column: 24, Char: ").
    [
      `<?xml version="1.0"?>\n<direct>\n  <rule ipv="ipv4" table="nat"\n`,
      3,
      3,
      `the file ends inside the markup that starts here: "<rule ipv=\\"ipv4\\" table=\\"nat\\""`,
    ],
    [
      "<direct>\n  <rule ipv='ipv4'>\n</direct>",
      3,
      1,
      `</direct> where </rule> is expected (<rule> opened at line 2, column 3): "</direct>"`,
    ],
    ["<direct>\n", 1, 1, `the file ends before <direct> is closed: "<direct>"`],
    ["<direct/>\n<direct/>", 2, 1, "a second root element"],
    ["<direct>&bogus;</direct>", 1, 15, "invalid character entity"],
    ["not xml", 1, 1, `non-whitespace before first tag: "not xml"`],
    ["<direct>\r\n  <chain ipv=ipv4/>\r\n</direct>", 2, 14, `unquoted attribute value: "<chain`],
    [`<?xml version="1.0"?>`, 1, 22, "no root element"],
    ["<direct>\n<!-- unclosed", 2, 1, "the file ends inside the markup"],
    ["<direct/>\ntrailing", 2, 1, "text data outside of root node"],
    ["\n\n  <firewall/>", 3, 3, "the root element is <firewall>, not <direct>"],
  ];
  for (const [text, line, column, reason] of cases) {
    const e = assertThrows(() => parseDirectXml(text, "/etc/firewalld/direct.xml"), FirewalldError);
    assertEquals(
      [e.code, e.line, e.column, e.path],
      ["malformed_direct_xml", line, column, "/etc/firewalld/direct.xml"],
      JSON.stringify(text),
    );
    const prefix = "/etc/firewalld/direct.xml is not valid direct.xml: ";
    if (!e.message.startsWith(prefix) || !e.message.includes(reason)) {
      throw new Error(`${JSON.stringify(text)}: ${e.message} lacks ${reason}`);
    }
  }
});

Deno.test("parseXmlRoot() throws XmlSyntaxError with the offset", () => {
  const e = assertThrows(() => parseXmlRoot("<a>\n<b></a>"), XmlSyntaxError);
  assertEquals([e.line, e.column, e.offset], [2, 4, 7]);
});
