/**
 * Reads one config document (a file or stdin; YAML, or JSON, since JSON is
 * YAML 1.2) into settings that remember the line and column of each value,
 * so that a bad value deep in a file is reported where it is. A plain JSON
 * document is read without the yaml package when json_document.ts can
 * (resolve.ts asks it first); both hand their tree to the one walk in
 * document_walk.ts.
 *
 * @module
 */
import {
  isMap,
  isNode,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  type Pair,
  parseDocument,
  Scalar,
  type YAMLMap,
  type YAMLSeq,
} from "yaml";
import { ConfigError } from "./errors.ts";
import { type TreeView, walkDocument } from "./document_walk.ts";
import { type Setting, type SourceOptions, throwAll } from "./sources.ts";

/**
 * Parses a document. `source` names it without a position: `file:/etc/tp.yaml`
 * or `stdin`; each setting's origin adds `:<line>:<col>`.
 *
 * @example
 * ```ts
 * import { documentSettings } from "./document.ts";
 * const [s] = documentSettings("redirect:\n  dns:\n    port: 53\n", "file:/tp.yaml");
 * if (s.path !== "redirect.dns.port" || s.origin !== "file:/tp.yaml:3:11") throw new Error();
 * ```
 */
export function documentSettings(
  text: string,
  source: string,
  options: SourceOptions = {},
): Setting[] {
  const lines = new LineCounter();
  // A repeated key is an error, not a silent override; the walk checks it
  // with a Set, since the yaml package's own check (uniqueKeys) is
  // quadratic: a 1 MiB mapping took minutes.
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: false });
  const at = (offset: number | undefined) => {
    const { line, col } = lines.linePos(offset ?? 0);
    return `${source}:${line}:${col}`;
  };
  if (doc.errors.length > 0) {
    throwAll(doc.errors.map((e) =>
      new ConfigError({
        code: "parse_error",
        path: "",
        source: at(e.pos[0]),
        reason: `is not valid YAML or JSON: ${e.message.split("\n")[0]}`,
        expected: "",
      })
    ));
  }
  const view: TreeView<Node> = {
    isMap,
    isSeq,
    isScalar,
    isNull: (node) => (node as Scalar).value === null,
    *pairs(node) {
      for (const pair of (node as YAMLMap).items as Pair<Node | null, Node | null>[]) {
        const keyNode = pair.key;
        yield {
          key: String(isScalar(keyNode) ? keyNode.value : keyNode),
          keyNode,
          value: pair.value,
        };
      }
    },
    items: (node) => (node as YAMLSeq<Node | null>).items,
    scalar: (node) => (node as Scalar).value,
    quoted: (node) => isQuoted(node as Scalar),
    offset: (node) => (isNode(node) ? node.range?.[0] : undefined),
    // toJS expands aliases; the yaml package refuses a "billion laughs" document there.
    toJS(node) {
      try {
        return node.toJS(doc);
      } catch (e) {
        throw new ConfigError({
          code: "parse_error",
          path: "",
          source: at(node.range?.[0]),
          reason: `is not valid YAML or JSON: ${e instanceof Error ? e.message : String(e)}`,
          expected: "",
        });
      }
    },
  };
  return walkDocument(doc.contents as Node | null, view, at, options);
}

function isQuoted(node: Scalar): boolean {
  return node.type === Scalar.QUOTE_DOUBLE || node.type === Scalar.QUOTE_SINGLE;
}
