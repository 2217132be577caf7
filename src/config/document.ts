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
  isAlias,
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
import { DEPTH_REASON, type DocumentProblem, parseProblems, treeProblem } from "./yaml_checks.ts";
import { type TreePair, type TreeView, walkDocument } from "./document_walk.ts";
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
  const documentError = ({ offset, reason }: DocumentProblem) =>
    new ConfigError({ code: "parse_error", path: "", source: at(offset), reason, expected: "" });
  throwAll(parseProblems(doc.errors).map(documentError));
  const badNode = treeProblem(doc.contents as Node | null);
  if (badNode) throw documentError(badNode);
  const problem = (node: Node | null, reason: string) =>
    new ConfigError({
      code: "parse_error",
      path: "",
      source: at(node?.range?.[0]),
      reason: `is not valid YAML or JSON: ${reason}`,
      expected: "",
    });
  let aliases = 0;
  const deref = (node: Node): Node => {
    if (!isAlias(node)) return node;
    // Each use walks the aliased mapping again: bounded, as toJS bounds values.
    if (++aliases > MAX_MAPPING_ALIASES) {
      throw problem(node, `more than ${MAX_MAPPING_ALIASES} aliases of mappings`);
    }
    // The parser has already refused an alias to an anchor that is not defined.
    return node.resolve(doc) as Node;
  };
  /**
   * A mapping's own pairs, then those its merge key brings in: a merge key
   * never overrides a key the mapping sets, and of a list of mappings the
   * first that sets a key wins; merged mappings may merge in turn (YAML's
   * merge key type, https://yaml.org/type/merge.html, as kumactl's Go yaml
   * reads it: goyaml.v3 decode.go `merge`).
   */
  function* pairs(map: YAMLMap, own = new Set<string>()): Generator<TreePair<Node>> {
    let merge: Pair<Node | null, Node | null> | undefined;
    for (const pair of map.items as Pair<Node | null, Node | null>[]) {
      const keyNode = pair.key;
      if (isMergeKey(keyNode)) {
        if (merge) throw problem(keyNode, "the merge key << is repeated (map keys must be unique)");
        merge = pair;
        continue;
      }
      const key = String(isScalar(keyNode) ? keyNode.value : keyNode);
      own.add(key);
      yield { key, keyNode, value: pair.value };
    }
    if (!merge) return;
    const value = merge.value === null ? null : deref(merge.value);
    const sources = isSeq(value)
      ? (value.items as (Node | null)[]).map((i) => i && deref(i))
      : [value];
    for (const source of sources) {
      if (!isMap(source)) {
        throw problem(
          source ?? merge.value ?? (merge.key as Node),
          "a merge key << takes a mapping or a list of mappings",
        );
      }
      for (const p of pairs(source, new Set(own))) {
        if (own.has(p.key)) continue;
        own.add(p.key);
        yield p;
      }
    }
  }
  const view: TreeView<Node> = {
    isMap,
    isSeq,
    isScalar,
    isNull: (node) => (node as Scalar).value === null,
    pairs: (node) => pairs(node as YAMLMap),
    deref,
    items: (node) => (node as YAMLSeq<Node | null>).items,
    scalar: (node) => (node as Scalar).value,
    quoted: (node) => isQuoted(node as Scalar),
    offset: (node) => (isNode(node) ? node.range?.[0] : undefined),
    // toJS expands aliases; the yaml package refuses a "billion laughs" document there.
    toJS(node) {
      try {
        return node.toJS(doc);
      } catch (e) {
        // Each alias may nest its anchor's lists inside another's, each within the
        // depth limit, until the expansion overflows the stack.
        if (e instanceof RangeError) {
          throw documentError({ offset: node.range?.[0], reason: DEPTH_REASON });
        }
        throw problem(node, e instanceof Error ? e.message : String(e));
      }
    },
  };
  return walkDocument(doc.contents as Node | null, view, at, options);
}

/**
 * Where a mapping's aliases and merge keys stop being followed: a legitimate
 * config has a handful, an alias bomb needs thousands. toJS keeps the yaml
 * package's own bound (maxAliasCount) for the values.
 */
export const MAX_MAPPING_ALIASES = 100;

const MERGE_TAG = "tag:yaml.org,2002:merge";

/** `<<` plain or tagged `!!merge`; a quoted "<<" is a key like any other, as in Go's yaml. */
function isMergeKey(node: Node | null): boolean {
  if (!isScalar(node) || node.value !== "<<") return false;
  return node.tag === MERGE_TAG || (!node.tag && node.type === Scalar.PLAIN);
}

function isQuoted(node: Scalar): boolean {
  return node.type === Scalar.QUOTE_DOUBLE || node.type === Scalar.QUOTE_SINGLE;
}
