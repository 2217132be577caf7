/**
 * What a config document may not hold although the yaml package reads it:
 * a second document, a tag beyond YAML's core schema (`!!binary`, `!!set`,
 * `!local`), and lists and mappings nested deeper than any config needs.
 * Each is a clear error at its line, never a JavaScript message ("please
 * use YAML.parseAllDocuments()", `{"type":"Buffer",...}`, "Maximum call
 * stack size exceeded").
 *
 * @module
 */
import { isAlias, isMap, isPair, isSeq, type Node, type YAMLError } from "yaml";
import { MAX_DEPTH } from "./json_document.ts";

/** A problem with a document: where, and the predicate of the message. */
export interface DocumentProblem {
  offset: number | undefined;
  reason: string;
}

/** Nesting past what a config needs, in the document or through aliases (toJS). */
export const DEPTH_REASON = `nests lists and mappings more than ${MAX_DEPTH} deep ` +
  "(the settings nest three deep)";

/**
 * The yaml package's parse errors as problems: a second document and a
 * nesting too deep for its parser say so; a stack overflow ends the list
 * (what follows it is its echo).
 */
export function parseProblems(errors: readonly YAMLError[]): DocumentProblem[] {
  const exhausted = errors.find((e) => e.code === "RESOURCE_EXHAUSTION");
  if (exhausted) return [{ offset: exhausted.pos[0], reason: DEPTH_REASON }];
  return errors.map((e) => ({
    offset: e.pos[0],
    reason: e.code === "MULTIPLE_DOCS"
      ? "starts a second YAML document (expected one document: a config is one mapping)"
      : `is not valid YAML or JSON: ${e.message.split("\n")[0]}`,
  }));
}

/** YAML 1.2 core schema tags, and merge (document.ts follows merge keys). */
const CORE_TAGS = new Set(
  ["str", "int", "float", "bool", "null", "map", "seq", "merge"].map((t) =>
    `tag:yaml.org,2002:${t}`
  ),
);

/**
 * The first node with a tag a config does not take, or nested deeper than
 * {@linkcode MAX_DEPTH} (as the JSON reader's limit). Iterative, so a deep
 * tree cannot overflow the stack here.
 */
export function treeProblem(root: Node | null | undefined): DocumentProblem | undefined {
  const stack: [Node | null | undefined, number][] = [[root, 0]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (!node) continue;
    const offset = node.range?.[0];
    // As the JSON reader counts: the root is at depth 0, and no node is deeper.
    if (depth > MAX_DEPTH) return { offset, reason: DEPTH_REASON };
    if (isAlias(node)) continue;
    if (node.tag !== undefined && !CORE_TAGS.has(node.tag)) {
      const tag = node.tag.replace(/^tag:yaml\.org,2002:/, "!!");
      return {
        offset,
        reason: `has the YAML tag ${tag}, which a config does not take ` +
          "(expected plain text, numbers, booleans, lists and mappings)",
      };
    }
    if (isMap(node) || isSeq(node)) {
      for (const item of node.items) {
        if (isPair(item)) {
          stack.push([item.value as Node | null, depth + 1], [item.key as Node | null, depth + 1]);
        } else stack.push([item as Node | null, depth + 1]);
      }
    }
  }
  return undefined;
}
