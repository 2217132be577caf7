/**
 * Reads a config document that is plain JSON without the yaml package,
 * whose import and position-tracking parse cost tens of milliseconds at
 * start-up and more per thousand list items (bench/README.md). It hands the
 * same tree to the same walk as the YAML reader (document_walk.ts), with
 * the offsets the yaml package would give: a value's first character, a
 * string's opening quote.
 *
 * Only what it reads exactly as YAML 1.2 does: a top-level object, spaces
 * and `\n` between tokens, JSON strings, numbers, true, false and null,
 * nested no deeper than {@linkcode MAX_DEPTH}. Anything else (a tab or
 * `\r`, comments, a byte-order mark, any syntax error) returns undefined,
 * and the caller reads the document with the yaml package, which also says
 * where a syntax error is.
 *
 * @module
 */
import { type TreeView, walkDocument } from "./document_walk.ts";
import type { Setting, SourceOptions } from "./sources.ts";

/** Deeper documents go to the yaml package (our settings nest three deep). */
export const MAX_DEPTH = 64;

type JsonNode =
  | { kind: "map"; offset: number; pairs: { key: string; keyOffset: number; value: JsonNode }[] }
  | { kind: "seq"; offset: number; items: JsonNode[] }
  | { kind: "scalar"; offset: number; value: string | number | boolean | null; quoted: boolean };

/** Not plain JSON: the yaml package reads it. */
class NotPlain extends Error {}

// A JSON number (RFC 8259 section 6); YAML 1.2's core schema reads each the same.
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?/y;
// A JSON string: no control characters, only JSON's escapes (all of them YAML's too).
// deno-lint-ignore no-control-regex -- JSON forbids U+0000 to U+001F unescaped.
const STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;
const LITERAL = /true|false|null/y;

function parseTree(text: string): JsonNode {
  let pos = 0;
  const space = () => {
    while (text.charCodeAt(pos) === 0x20 || text.charCodeAt(pos) === 0x0a) pos++;
  };
  const match = (re: RegExp): string => {
    re.lastIndex = pos;
    const m = re.exec(text);
    if (!m) throw new NotPlain();
    pos = re.lastIndex;
    return m[0];
  };
  /** The comma-separated entries after a `{` or `[`, up to and past `close`. */
  const entries = <T>(close: string, entry: () => T): T[] => {
    const out: T[] = [];
    space();
    if (text[pos] === close) {
      pos++;
      return out;
    }
    for (;;) {
      space();
      out.push(entry());
      space();
      const next = text[pos++];
      if (next === close) return out;
      if (next !== ",") throw new NotPlain();
    }
  };
  const value = (depth: number): JsonNode => {
    if (depth > MAX_DEPTH) throw new NotPlain();
    const offset = pos;
    const c = text[pos];
    if (c === "{") {
      pos++;
      const pairs = entries("}", () => {
        const keyOffset = pos;
        const key = JSON.parse(match(STRING)) as string;
        // yaml builds plain objects with key assignment; leave the odd key to it.
        if (key === "__proto__") throw new NotPlain();
        space();
        if (text[pos++] !== ":") throw new NotPlain();
        space();
        return { key, keyOffset, value: value(depth + 1) };
      });
      return { kind: "map", offset, pairs };
    }
    if (c === "[") {
      pos++;
      return { kind: "seq", offset, items: entries("]", () => value(depth + 1)) };
    }
    if (c === '"') {
      return { kind: "scalar", offset, value: JSON.parse(match(STRING)), quoted: true };
    }
    if (c === "-" || (c >= "0" && c <= "9")) {
      return { kind: "scalar", offset, value: Number(match(NUMBER)), quoted: false };
    }
    const word = match(LITERAL);
    return {
      kind: "scalar",
      offset,
      value: word === "null" ? null : word === "true",
      quoted: false,
    };
  };
  space();
  if (text[pos] !== "{") throw new NotPlain();
  const root = value(0);
  space();
  if (pos !== text.length) throw new NotPlain();
  return root;
}

function plain(node: JsonNode): unknown {
  switch (node.kind) {
    case "scalar":
      return node.value;
    case "seq":
      return node.items.map(plain);
    case "map":
      return Object.fromEntries(node.pairs.map((p) => [p.key, plain(p.value)]));
  }
}

const VIEW: TreeView<JsonNode> = {
  isMap: (n) => n.kind === "map",
  isSeq: (n) => n.kind === "seq",
  isScalar: (n) => n.kind === "scalar",
  isNull: (n) => n.kind === "scalar" && n.value === null,
  *pairs(n) {
    if (n.kind !== "map") return;
    for (const p of n.pairs) {
      yield {
        key: p.key,
        keyNode: { kind: "scalar", offset: p.keyOffset, value: p.key, quoted: true },
        value: p.value,
      };
    }
  },
  items: (n) => (n.kind === "seq" ? n.items : []),
  scalar: (n) => (n.kind === "scalar" ? n.value : undefined),
  quoted: (n) => n.kind === "scalar" && n.quoted,
  offset: (n) => n?.offset,
  toJS: plain,
  // JSON has no aliases.
  deref: (n) => n,
};

/**
 * The settings of a plain JSON document, as `documentSettings` (document.ts)
 * gives them, or undefined when the text is not plain JSON (see the module
 * doc) and the yaml package must read it.
 *
 * @example
 * ```ts
 * import { jsonDocumentSettings } from "./json_document.ts";
 * const [s] = jsonDocumentSettings('{\n  "redirect": {"dns": {"port": 53}}\n}', "file:/tp.json")!;
 * if (s.path !== "redirect.dns.port" || s.origin !== "file:/tp.json:2:32") throw new Error();
 * if (jsonDocumentSettings("redirect:\n  dns: {}\n", "stdin") !== undefined) throw new Error();
 * ```
 */
export function jsonDocumentSettings(
  text: string,
  source: string,
  options: SourceOptions = {},
): Setting[] | undefined {
  let root: JsonNode;
  try {
    root = parseTree(text);
  } catch (e) {
    // RangeError: a regular expression's stack on a string of many megabytes
    // (more than a config may hold): the yaml package decides then too.
    if (e instanceof NotPlain || e instanceof SyntaxError || e instanceof RangeError) {
      return undefined;
    }
    throw e;
  }
  const lineStarts = [0];
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) lineStarts.push(i + 1);
  const at = (offset: number | undefined) => {
    const o = offset ?? 0;
    // The last line starting at or before o (binary search).
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid] <= o) lo = mid;
      else hi = mid - 1;
    }
    return `${source}:${lo + 1}:${o - lineStarts[lo] + 1}`;
  };
  return walkDocument(root, VIEW, at, options);
}
