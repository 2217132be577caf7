/**
 * Reads one config document (a file or stdin; YAML or JSON, since JSON is
 * YAML 1.2) into settings that remember the line and column of each value,
 * so that a bad value deep in a file is reported where it is.
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
  parseDocument,
  Scalar,
} from "yaml";
import { ConfigError, MAX_SHOWN_PROBLEMS } from "./errors.ts";
import { LEAF_DOCUMENT_TYPES, LEAF_PATHS, OBJECT_PATHS, suggest } from "./keys.ts";
import type { DocumentType } from "./schema.ts";
import { type Setting, type SourceOptions, throwAll } from "./sources.ts";

const LEAVES = new Set(LEAF_PATHS);
const KNOWN = [...LEAF_PATHS, ...OBJECT_PATHS];

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
  // A repeated key is an error, not a silent override; walk() checks it with
  // a Set, since the yaml package's own check (uniqueKeys) is quadratic: a
  // 1 MiB mapping took minutes.
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
  const out: Setting[] = [];
  const errors: ConfigError[] = [];
  let unknownKeys = 0;
  // toJS expands aliases; the yaml package refuses a "billion laughs" document there.
  const toJS = (node: Node) => {
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
  };

  const walk = (node: unknown, prefix: string) => {
    if (node === null || node === undefined || (isScalar(node) && node.value === null)) return;
    if (!isMap(node)) {
      errors.push(
        new ConfigError({
          code: "invalid_value",
          path: prefix,
          source: at(isNode(node) ? node.range?.[0] : 0),
          // Only a scalar is shown: a list may be as long as the document.
          value: isScalar(node) ? node.value : undefined,
          reason: isSeq(node) ? "is a list, not a mapping" : "is not a mapping",
          expected: prefix ? `the keys of ${prefix}` : "a mapping of settings",
        }),
      );
      return;
    }
    const seen = new Set<string>();
    for (const pair of node.items) {
      const keyNode = pair.key as Node | null;
      const key = String(isScalar(keyNode) ? keyNode.value : keyNode);
      const path = prefix ? `${prefix}.${key}` : key;
      if (seen.has(key)) {
        errors.push(
          new ConfigError({
            code: "parse_error",
            path: "",
            source: at(isNode(keyNode) ? keyNode.range?.[0] : node.range?.[0]),
            reason:
              `is not valid YAML or JSON: the key ${path} is repeated (map keys must be unique)`,
            expected: "",
          }),
        );
        continue;
      }
      seen.add(key);
      const value = pair.value as Node | null;
      if (OBJECT_PATHS.has(path)) {
        walk(value, path);
      } else if (LEAVES.has(path)) {
        // null is "not given", as when Go unmarshals JSON null into a field.
        if (value === null || (isScalar(value) && value.value === null)) continue;
        const type = LEAF_DOCUMENT_TYPES.get(path);
        // A plain `port: x` goes on to the schema, which says "is not a port".
        const plainForNumber = type === "number" && isScalar(value) && !isQuoted(value);
        if (type && isScalar(value) && typeof value.value !== type && !plainForNumber) {
          errors.push(wrongType(path, type, value, at(value.range?.[0])));
          continue;
        }
        out.push({
          path,
          value: toJS(value),
          origin: at(value.range?.[0]),
          itemOrigins: isSeq(value)
            ? value.items.map((i) => at(isNode(i) ? i.range?.[0] : value.range?.[0]))
            : undefined,
        });
      } else {
        // Past what is shown, a suggestion is wasted work (100,000 typos fit in 1 MiB).
        const guess = ++unknownKeys <= MAX_SHOWN_PROBLEMS ? suggest(path, KNOWN) : undefined;
        const unknown = new ConfigError({
          code: "unknown_key",
          path,
          source: at(isNode(keyNode) ? keyNode.range?.[0] : node.range?.[0]),
          reason: "is not a known setting" + (guess ? `; did you mean \`${guess}\`?` : ""),
          expected: "",
        });
        if (options.onUnknownKey) options.onUnknownKey(unknown);
        else errors.push(unknown);
      }
    }
  };
  walk(doc.contents, "");
  throwAll(errors);
  return out;
}

function isQuoted(node: Scalar): boolean {
  return node.type === Scalar.QUOTE_DOUBLE || node.type === Scalar.QUOTE_SINGLE;
}

/** `port: "15006"` or `enabled: "true"`: a document value of the wrong YAML type. */
function wrongType(path: string, type: DocumentType, node: Scalar, source: string): ConfigError {
  const value = node.value;
  const quoted = isQuoted(node);
  return new ConfigError({
    code: "invalid_value",
    path,
    source,
    value,
    reason: `is ${quoted ? "a string in quotes" : `a ${typeof value}`}, not a ${type}`,
    expected: `${type === "number" ? "a number" : "true or false"} without quotes; ` +
      "only env vars and flags take text",
  });
}
