/**
 * Reading and editing firewalld's permanent direct config, direct.xml, as
 * text. Used when firewalld is installed but not running: it applies the
 * file at its next start. While firewalld runs we go through D-Bus instead,
 * because editing the file then changes only the permanent config and
 * runtime would follow only at the next reload (testing.md, firewalld facts).
 *
 * xml2js validates the text and tells us what each element is. It drops XML
 * comments and gives no positions, so the edit itself is a splice of the
 * original text (see _xml_scan.ts): foreign elements, unknown elements,
 * attributes, comments, whitespace and order are kept byte for byte.
 *
 * @module
 */
import xml2js from "xml2js";
import { type RootSpan, scanRoot } from "./_xml_scan.ts";
import { type DirectEntry, type Ipv, isOurEntry } from "./direct_entries.ts";
import { FirewalldError } from "./errors.ts";
import { joinArgs, ShellWordsError, splitArgs } from "./shell_words.ts";

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

interface Xml2jsNode {
  "#name": string;
  $?: Record<string, string>;
  _?: string;
  $$?: Xml2jsNode[];
}

/**
 * Parses and validates direct.xml text. Throws a {@link FirewalldError} with
 * code `malformed-direct-xml` if it is not well-formed XML with a single
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
  const malformed = (reason: string, cause?: unknown) =>
    new FirewalldError(
      "malformed-direct-xml",
      `${path ?? "direct.xml"} is not valid direct.xml: ${reason}`,
      { path, cause },
    );
  if (text.trim() === "") throw malformed("the file is empty");
  let parsed: Record<string, Xml2jsNode | string>;
  try {
    parsed = parseSync(text);
  } catch (e) {
    throw malformed(firstLine(e), e);
  }
  let root: RootSpan;
  try {
    root = scanRoot(text);
  } catch (e) {
    throw malformed(firstLine(e), e);
  }
  if (root.name !== "direct") throw malformed(`the root element is <${root.name}>, not <direct>`);
  const rootNode = parsed.direct;
  const nodes = typeof rootNode === "object" && rootNode ? rootNode.$$ ?? [] : [];
  if (nodes.length !== root.children.length) {
    throw malformed(`found ${root.children.length} elements where the parser saw ${nodes.length}`);
  }
  const elements = root.children.map((span, i): DirectXmlElement => {
    const node = nodes[i];
    if (node["#name"] !== span.name) {
      throw malformed(`element ${i + 1} is <${span.name}> but the parser saw <${node["#name"]}>`);
    }
    const attributes = node.$ ?? {};
    const body = node._ ?? "";
    return {
      name: span.name,
      attributes,
      text: body,
      start: span.start,
      end: span.end,
      entry: toEntry(span.name, attributes, body),
    };
  });
  return { text, root, elements };
}

/** xml2js calls back synchronously unless `async` is set; this keeps the editing functions pure and sync. */
function parseSync(text: string): Record<string, Xml2jsNode | string> {
  let result: unknown;
  let error: unknown;
  let called = false;
  new xml2js.Parser({ explicitChildren: true, preserveChildrenOrder: true, async: false })
    .parseString(text, (err: unknown, value: unknown) => {
      if (called) return;
      called = true;
      error = err;
      result = value;
    });
  if (!called) throw new Error("xml2js did not finish parsing synchronously");
  if (error) throw error;
  if (result === null || typeof result !== "object") throw new Error("no root element");
  return result as Record<string, Xml2jsNode | string>;
}

function firstLine(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  return message.split("\n").filter((l) => l.trim() !== "").join(", ");
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
 * is returned. Throws `malformed-direct-xml` before changing anything.
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
  const ours = doc.elements.filter((e) => e.entry && isOurEntry(e.entry));
  let out = text;
  for (const element of [...ours].reverse()) out = cutElement(out, element.start, element.end);
  if (entries.length > 0) out = append(out, scanRoot(out), entries);
  return { text: out, removed: ours.map((e) => e.entry!), added: [...entries] };
}

/** What firewalld writes for a new direct.xml (firewall/core/io/direct.py `write`). */
export const EMPTY_DIRECT_XML = `<?xml version="1.0" encoding="utf-8"?>\n<direct>\n</direct>\n`;

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

/**
 * One entry as a direct.xml element, written like firewalld writes it:
 * arguments joined with shlex quoting, then XML-escaped.
 *
 * @example
 * ```ts
 * import { renderElement } from "./direct_xml.ts";
 * const s = renderElement({ kind: "rule", ipv: "ipv6", table: "nat", chain: "OUTPUT",
 *   priority: -1, args: ["-j", "A&B"] });
 * if (s !== `<rule ipv="ipv6" table="nat" chain="OUTPUT" priority="-1">-j 'A&amp;B'</rule>`) {
 *   throw new Error(s);
 * }
 * ```
 */
export function renderElement(entry: DirectEntry): string {
  switch (entry.kind) {
    case "chain":
      return `<chain ${attrs({ ipv: entry.ipv, table: entry.table, chain: entry.chain })}/>`;
    case "rule":
      return `<rule ${
        attrs({
          ipv: entry.ipv,
          table: entry.table,
          chain: entry.chain,
          priority: String(entry.priority),
        })
      }>${escapeText(joinArgs(entry.args))}</rule>`;
    case "passthrough":
      return `<passthrough ${attrs({ ipv: entry.ipv })}>${
        escapeText(joinArgs(entry.args))
      }</passthrough>`;
  }
}

function attrs(values: Record<string, string>): string {
  return Object.entries(values).map(([k, v]) => `${k}="${escapeAttribute(v)}"`).join(" ");
}

function escapeText(s: string): string {
  return s.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}

function escapeAttribute(s: string): string {
  return escapeText(s).replaceAll('"', "&quot;").replaceAll("\n", "&#10;").replaceAll(
    "\t",
    "&#9;",
  );
}
