/**
 * One streaming parse of an XML text with `sax` (strict mode): the root
 * element, its direct children with their attributes and text, and where
 * each starts and ends in the text. direct.xml is edited as text at these
 * spans, so everything outside the spans we touch (comments, foreign
 * elements, whitespace) stays byte for byte.
 *
 * sax counts positions in UTF-16 code units of the string it is given, the
 * same units as `String.prototype.slice`; `startTagPosition` is the position
 * just after the `<` of the markup being read (sax-js lib/sax.js).
 *
 * @module
 */
import sax from "sax";

/** A direct child element of the root: `text.slice(start, end)` is the whole element. */
export interface ElementSpan {
  name: string;
  attributes: Record<string, string>;
  /** The element's own text (and CDATA) content, entities decoded; nested elements' text is not included. */
  text: string;
  start: number;
  end: number;
}

/** The root element and its children. */
export interface RootSpan {
  name: string;
  /** Start of the root start tag. */
  start: number;
  /** End of the root start tag (after `>`). */
  openEnd: number;
  /** Start of `</root>`, or -1 when the root is written `<root/>`. */
  closeStart: number;
  /** End of the root element. */
  end: number;
  children: ElementSpan[];
}

/** Where and why a text is not well-formed XML. Line and column count from 1. */
export class XmlSyntaxError extends Error {
  constructor(
    /** What is wrong, without the position. */
    readonly reason: string,
    readonly line: number,
    readonly column: number,
    /** Offset in the text. */
    readonly offset: number,
    /** The line of the text at that position, trimmed (at most 80 characters). */
    readonly excerpt: string,
  ) {
    super(
      `line ${line}, column ${column}: ${reason}${excerpt ? `: ${JSON.stringify(excerpt)}` : ""}`,
    );
    this.name = "XmlSyntaxError";
  }
}

/** The parts of sax's parser this module uses (sax ships no types). */
interface SaxParser {
  position: number;
  startTagPosition: number;
  state: number;
  /** The name of the tag being read. */
  tagName: string;
  onopentag: (
    node: { name: string; attributes: Record<string, string>; isSelfClosing: boolean },
  ) => void;
  onclosetag: (name: string) => void;
  ontext: (text: string) => void;
  oncdata: (text: string) => void;
  onerror: (e: Error) => void;
  write(text: string): SaxParser;
  close(): SaxParser;
}

interface Open {
  name: string;
  attributes: Record<string, string>;
  start: number;
  text: string;
}

/**
 * Parses `text` and returns the root element's span and its children's
 * spans. Throws {@link XmlSyntaxError} for text that is not well-formed XML
 * with exactly one root element.
 *
 * @example
 * ```ts
 * import { parseXmlRoot } from "./_xml_parse.ts";
 * const root = parseXmlRoot(`<direct><!-- c --><chain ipv="ipv4"/></direct>`);
 * if (root.children[0].start !== 18 || root.children[0].attributes.ipv !== "ipv4") throw new Error();
 * ```
 */
export function parseXmlRoot(text: string): RootSpan {
  const parser = (sax as unknown as { parser(strict: boolean, opt: object): SaxParser })
    .parser(true, { position: true, trim: false, normalize: false });
  let root: RootSpan | null = null;
  const stack: Open[] = [];
  const fail = (reason: string, offset: number): never => {
    throw syntaxError(text, reason, offset);
  };
  parser.onerror = (e) => {
    const top = stack[stack.length - 1];
    if (/^Un(expected|matched) close/.test(e.message) && top) {
      fail(
        `</${parser.tagName}> where </${top.name}> is expected (<${top.name}> opened at ` +
          `${where(text, top.start)})`,
        parser.startTagPosition - 1,
      );
    }
    // sax appends "\nLine: ..\nColumn: ..\nChar: .."; we report our own position.
    const reason = e.message.split("\n")[0].replace(/\.$/, "");
    fail(reason.charAt(0).toLowerCase() + reason.slice(1), Math.max(parser.position - 1, 0));
  };
  parser.onopentag = (node) => {
    const start = parser.startTagPosition - 1;
    if (stack.length === 0) {
      if (root) fail("a second root element (an XML document has exactly one)", start);
      root = {
        name: node.name,
        start,
        openEnd: parser.position,
        closeStart: -1,
        end: parser.position,
        children: [],
      };
    }
    stack.push({ name: node.name, attributes: { ...node.attributes }, start, text: "" });
  };
  parser.onclosetag = () => {
    const open = stack.pop()!;
    const end = parser.position;
    if (stack.length === 1) {
      root!.children.push({
        name: open.name,
        attributes: open.attributes,
        text: open.text,
        start: open.start,
        end,
      });
    } else if (stack.length === 0) {
      // A self-closing tag is closed by the same `>` that opened it.
      root!.closeStart = end === root!.openEnd ? -1 : parser.startTagPosition - 1;
      root!.end = end;
    }
  };
  const addText = (s: string) => {
    if (stack.length > 0) stack[stack.length - 1].text += s;
  };
  parser.ontext = addText;
  parser.oncdata = addText;
  try {
    parser.write(text);
  } catch (e) {
    if (e instanceof XmlSyntaxError) throw e;
    throw syntaxError(text, String(e), Math.max(parser.position - 1, 0));
  }
  const { STATE } = sax as unknown as { STATE: Record<string, number> };
  if (![STATE.BEGIN, STATE.BEGIN_WHITESPACE, STATE.TEXT].includes(parser.state)) {
    fail("the file ends inside the markup that starts here", parser.startTagPosition - 1);
  }
  if (stack.length > 0) {
    const open = stack[stack.length - 1];
    fail(`the file ends before <${open.name}> is closed`, open.start);
  }
  try {
    parser.close();
  } catch (e) {
    if (e instanceof XmlSyntaxError) throw e;
    throw syntaxError(text, String(e), text.length);
  }
  if (!root) fail("no root element", text.length);
  return root!;
}

/** `line L, column C` of an offset. */
function where(text: string, offset: number): string {
  const e = syntaxError(text, "", offset);
  return `line ${e.line}, column ${e.column}`;
}

function syntaxError(text: string, reason: string, offset: number): XmlSyntaxError {
  const at = Math.min(offset, text.length);
  const lineStart = text.lastIndexOf("\n", at - 1) + 1;
  const newline = text.indexOf("\n", at);
  const lineEnd = newline < 0 ? text.length : newline;
  const line = text.slice(0, lineStart).split("\n").length;
  const excerpt = text.slice(lineStart, lineEnd).replace(/\r$/, "").trim();
  return new XmlSyntaxError(
    reason,
    line,
    at - lineStart + 1,
    at,
    excerpt.length > 80 ? excerpt.slice(0, 77) + "..." : excerpt,
  );
}
