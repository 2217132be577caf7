/**
 * Finds where the root element and its direct children start and end in an
 * XML text. xml2js drops comments (it has no option to keep them) and gives
 * no positions, so direct.xml is validated and understood with xml2js but
 * edited as text at the spans found here; everything outside the spans we
 * touch (comments, foreign elements, whitespace) stays byte for byte.
 *
 * Only called on text that xml2js has accepted as well-formed, so it can
 * rely on that: `<` never appears inside attribute values or text.
 *
 * @module
 */

/** A direct child element of the root: `text.slice(start, end)` is the whole element. */
export interface ElementSpan {
  name: string;
  start: number;
  end: number;
}

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

/** Thrown when the text has a shape the scanner does not follow (the caller reports it as malformed). */
export class XmlScanError extends Error {
  constructor(message: string, readonly offset: number) {
    super(message);
    this.name = "XmlScanError";
  }
}

/** Scans `text` and returns the root element's span and its children's spans. */
export function scanRoot(text: string): RootSpan {
  let root: RootSpan | null = null;
  const stack: { name: string; start: number }[] = [];
  let i = 0;
  while (i < text.length) {
    const lt = text.indexOf("<", i);
    if (lt < 0) break;
    if (text.startsWith("<!--", lt)) {
      i = after(text, "-->", lt + 4);
    } else if (text.startsWith("<?", lt)) {
      i = after(text, "?>", lt + 2);
    } else if (text.startsWith("<![CDATA[", lt)) {
      i = after(text, "]]>", lt + 9);
    } else if (text.startsWith("<!", lt)) {
      i = endOfDeclaration(text, lt);
    } else if (text.startsWith("</", lt)) {
      const end = after(text, ">", lt + 2);
      const name = text.slice(lt + 2, end - 1).trim();
      const open = stack.pop();
      if (!open || open.name !== name) throw new XmlScanError(`Unexpected </${name}>`, lt);
      if (stack.length === 1 && root) root.children.push({ name, start: open.start, end });
      if (stack.length === 0 && root) {
        root.closeStart = lt;
        root.end = end;
      }
      i = end;
    } else {
      const end = endOfTag(text, lt);
      const name = /^<([^\s/>]+)/.exec(text.slice(lt, end))?.[1] ?? "";
      const selfClosing = text[end - 2] === "/";
      if (stack.length === 0) {
        if (root) throw new XmlScanError("More than one root element", lt);
        root = { name, start: lt, openEnd: end, closeStart: -1, end, children: [] };
      }
      if (selfClosing) {
        if (stack.length === 1 && root) root.children.push({ name, start: lt, end });
      } else {
        stack.push({ name, start: lt });
      }
      i = end;
    }
  }
  if (!root) throw new XmlScanError("No root element", 0);
  if (stack.length > 0) throw new XmlScanError(`Unclosed <${stack[0].name}>`, stack[0].start);
  return root;
}

function after(text: string, token: string, from: number): number {
  const at = text.indexOf(token, from);
  if (at < 0) throw new XmlScanError(`Missing ${token}`, from);
  return at + token.length;
}

/** End of a start tag; `>` may appear inside quoted attribute values. */
function endOfTag(text: string, from: number): number {
  let quote = "";
  for (let i = from + 1; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === quote) quote = "";
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === ">") {
      return i + 1;
    }
  }
  throw new XmlScanError("Unterminated tag", from);
}

/** End of `<!DOCTYPE ...>`, which may hold an internal subset in brackets. */
function endOfDeclaration(text: string, from: number): number {
  let depth = 0;
  let quote = "";
  for (let i = from + 2; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === quote) quote = "";
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === "[") {
      depth++;
    } else if (c === "]") {
      depth--;
    } else if (c === ">" && depth === 0) {
      return i + 1;
    }
  }
  throw new XmlScanError("Unterminated declaration", from);
}
