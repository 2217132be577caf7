/**
 * Reading and editing firewalld's permanent direct config, direct.xml, as
 * text. Used when firewalld is installed but not running: it applies the
 * file at its next start. While firewalld runs we go through D-Bus instead,
 * because editing the file then changes only the permanent config and
 * runtime would follow only at the next reload (firewalld F5, docs/firewalld.md#f5).
 *
 * One streaming parse (sax, in _xml_parse.ts) validates the text and gives
 * each element's content and where it sits, so the edit is a splice of the
 * original text: foreign elements, unknown elements, attributes, comments,
 * whitespace and order are kept byte for byte.
 *
 * sax loads as CommonJS, which bootstraps Deno's Node compatibility layer, so
 * this module is imported only where a direct.xml is there to parse
 * (`persist.ts`, `src/ops/firewalld_step.ts`); what needs no parse is in
 * direct_xml_render.ts.
 *
 * @module
 */
import { parseXmlRoot, type RootSpan, XmlSyntaxError } from "./_xml_parse.ts";
import { type DirectEntry, type Ipv, isOurEntry } from "./direct_entries.ts";
import { FirewalldError } from "./errors.ts";
import { assertNoForeignJump } from "./foreign_jump.ts";
import { EMPTY_DIRECT_XML, renderElement } from "./direct_xml_render.ts";
import { ShellWordsError, splitArgs } from "./shell_words.ts";

/** One direct child of `<direct>`, with where it sits in the text. */
export interface DirectXmlElement {
  name: string;
  attributes: Record<string, string>;
  /** The element's text content, entities decoded. */
  text: string;
  start: number;
  end: number;
  /** What firewalld would make of it; null for elements it would not load (kept as they are). */
  entry: DirectEntry | null;
}

/** A validated direct.xml. */
export interface DirectXml {
  text: string;
  root: RootSpan;
  elements: DirectXmlElement[];
}

/** The result of an edit. */
export interface DirectXmlEdit {
  text: string;
  removed: DirectEntry[];
  added: DirectEntry[];
}

/**
 * Parses and validates direct.xml text. Throws a {@link FirewalldError} with
 * code `malformed_direct_xml` if it is not well-formed XML with a single
 * `<direct>` root.
 *
 * @example
 * ```ts
 * import { parseDirectXml } from "./direct_xml.ts";
 * const doc = parseDirectXml(`<direct><chain ipv="ipv4" table="nat" chain="X"/></direct>`);
 * if (doc.elements[0].entry?.kind !== "chain") throw new Error();
 * ```
 */
export function parseDirectXml(text: string, path?: string): DirectXml {
  const file = path ?? "direct.xml";
  if (text.trim() === "") {
    throw new FirewalldError(
      "malformed_direct_xml",
      `${file} is not valid direct.xml: the file is empty`,
      {
        path,
      },
    );
  }
  let root: RootSpan;
  try {
    root = parseXmlRoot(text);
  } catch (e) {
    if (!(e instanceof XmlSyntaxError)) throw e;
    throw new FirewalldError(
      "malformed_direct_xml",
      `${file} is not valid direct.xml: ${e.message}`,
      { path, line: e.line, column: e.column, cause: e },
    );
  }
  if (root.name !== "direct") {
    throw new FirewalldError(
      "malformed_direct_xml",
      `${file} is not valid direct.xml: the root element is <${root.name}>, not <direct>`,
      {
        path,
        line: lineOf(text, root.start),
        column: root.start - text.lastIndexOf("\n", root.start - 1),
      },
    );
  }
  const elements = root.children.map((span): DirectXmlElement => ({
    ...span,
    entry: toEntry(span.name, span.attributes, span.text),
  }));
  return { text, root, elements };
}

function lineOf(text: string, offset: number): number {
  return text.slice(0, offset).split("\n").length;
}

/** What firewalld's direct.xml reader (firewall/core/io/direct.py) would load from an element. */
function toEntry(name: string, a: Record<string, string>, body: string): DirectEntry | null {
  const ipv = a.ipv as Ipv | undefined;
  if (ipv === undefined) return null;
  try {
    if (name === "chain" && a.table !== undefined && a.chain !== undefined) {
      return { kind: "chain", ipv, table: a.table, chain: a.chain };
    }
    if (
      name === "rule" && a.table !== undefined && a.chain !== undefined &&
      /^\s*[-+]?\d+\s*$/.test(a.priority ?? "")
    ) {
      const args = splitArgs(body);
      if (args.length === 0) return null;
      return {
        kind: "rule",
        ipv,
        table: a.table,
        chain: a.chain,
        priority: Number(a.priority),
        args,
      };
    }
    if (name === "passthrough") {
      const args = splitArgs(body);
      return args.length === 0 ? null : { kind: "passthrough", ipv, args };
    }
  } catch (e) {
    // A body shlex cannot split is not loaded by firewalld either; it is not ours, keep it.
    if (e instanceof ShellWordsError) return null;
    throw e;
  }
  return null;
}

/**
 * The entries firewalld would load from the text, in file order.
 *
 * @example
 * ```ts
 * import { directXmlEntries } from "./direct_xml.ts";
 * const e = directXmlEntries(`<direct><passthrough ipv="ipv4">-N X</passthrough></direct>`);
 * if (e[0].kind !== "passthrough" || e[0].args[1] !== "X") throw new Error();
 * ```
 */
export function directXmlEntries(text: string, path?: string): DirectEntry[] {
  return parseDirectXml(text, path).elements.flatMap((e) => e.entry ? [e.entry] : []);
}

/**
 * Removes our entries (see `isOurEntry`) and adds `entries` at the end of
 * `<direct>`. `text` null means there is no direct.xml yet: a new document
 * is returned. Throws `malformed_direct_xml`, or `foreign_jump` for a rule
 * of someone else's that jumps to one of our chains (foreign_jump.ts),
 * before changing anything.
 *
 * @example
 * ```ts
 * import { editDirectXml } from "./direct_xml.ts";
 * const r = editDirectXml(null, [{ kind: "chain", ipv: "ipv4", table: "nat", chain: "KUMA_MESH_X" }]);
 * if (!r.text.includes(`<chain ipv="ipv4" table="nat" chain="KUMA_MESH_X"/>`)) throw new Error();
 * ```
 */
export function editDirectXml(
  text: string | null,
  entries: readonly DirectEntry[],
  path?: string,
): DirectXmlEdit {
  if (text === null) {
    return {
      text: EMPTY_DIRECT_XML.replace("</direct>", lines(entries) + "</direct>"),
      removed: [],
      added: [...entries],
    };
  }
  const doc = parseDirectXml(text, path);
  assertNoForeignJump(doc.elements.flatMap((e) => e.entry ? [e.entry] : []), {
    kind: "direct.xml",
    path: path ?? "direct.xml",
  });
  const ours = doc.elements.filter((e) => e.entry && isOurEntry(e.entry));
  let out = text;
  for (const element of [...ours].reverse()) out = cutElement(out, element.start, element.end);
  if (entries.length > 0) out = append(out, parseXmlRoot(out), entries);
  return { text: out, removed: ours.map((e) => e.entry!), added: [...entries] };
}

/** Cuts an element; when it is alone on its line, the whole line goes so no blank line is left. */
function cutElement(text: string, start: number, end: number): string {
  const lineStart = text.lastIndexOf("\n", start - 1) + 1;
  const newline = text.indexOf("\n", end);
  const lineEnd = newline < 0 ? text.length : newline;
  if (text.slice(lineStart, start).trim() === "" && text.slice(end, lineEnd).trim() === "") {
    return text.slice(0, lineStart) + text.slice(newline < 0 ? lineEnd : newline + 1);
  }
  return text.slice(0, start) + text.slice(end);
}

function append(text: string, root: RootSpan, entries: readonly DirectEntry[]): string {
  if (root.closeStart < 0) {
    // `<direct/>`: open it up, keeping its attributes.
    const open = text.slice(root.start, root.openEnd).replace(/\s*\/>$/, ">");
    return text.slice(0, root.start) + open + "\n" + lines(entries) + "</direct>" +
      text.slice(root.end);
  }
  const lineStart = text.lastIndexOf("\n", root.closeStart - 1) + 1;
  if (lineStart > root.openEnd && text.slice(lineStart, root.closeStart).trim() === "") {
    return text.slice(0, lineStart) + lines(entries) + text.slice(lineStart);
  }
  return text.slice(0, root.closeStart) + "\n" + lines(entries) + text.slice(root.closeStart);
}

function lines(entries: readonly DirectEntry[]): string {
  return entries.map((e) => `  ${renderElement(e)}\n`).join("");
}
