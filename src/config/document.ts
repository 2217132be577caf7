/**
 * Reads one config document (a file or stdin; YAML or JSON, since JSON is
 * YAML 1.2) into settings that remember the line and column of each value,
 * so that a bad value deep in a file is reported where it is.
 *
 * @module
 */
import { isMap, isNode, isScalar, isSeq, LineCounter, type Node, parseDocument } from "yaml";
import { ConfigError } from "./errors.ts";
import { LEAF_DOCUMENT_TYPES, LEAF_PATHS, OBJECT_PATHS, suggest } from "./keys.ts";
import type { DocumentType } from "./schema.ts";
import { type Setting, throwAll } from "./sources.ts";

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
export function documentSettings(text: string, source: string): Setting[] {
  const lines = new LineCounter();
  // uniqueKeys (the default) makes a repeated key an error instead of a silent override.
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
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

  const walk = (node: unknown, prefix: string) => {
    if (node === null || node === undefined || (isScalar(node) && node.value === null)) return;
    if (!isMap(node)) {
      errors.push(
        new ConfigError({
          code: "invalid_value",
          path: prefix,
          source: at(isNode(node) ? node.range?.[0] : 0),
          value: isNode(node) ? node.toJS(doc) : node,
          reason: "is not a mapping",
          expected: prefix ? `the keys of ${prefix}` : "a mapping of settings",
        }),
      );
      return;
    }
    for (const pair of node.items) {
      const keyNode = pair.key as Node | null;
      const key = String(isScalar(keyNode) ? keyNode.value : keyNode);
      const path = prefix ? `${prefix}.${key}` : key;
      const value = pair.value as Node | null;
      if (OBJECT_PATHS.has(path)) {
        walk(value, path);
      } else if (LEAVES.has(path)) {
        // null is "not given", as when Go unmarshals JSON null into a field.
        if (value === null || (isScalar(value) && value.value === null)) continue;
        const type = LEAF_DOCUMENT_TYPES.get(path);
        if (type && isScalar(value) && typeof value.value !== type) {
          errors.push(wrongType(path, type, value.value, at(value.range?.[0])));
          continue;
        }
        out.push({
          path,
          value: value.toJS(doc),
          origin: at(value.range?.[0]),
          itemOrigins: isSeq(value)
            ? value.items.map((i) => at(isNode(i) ? i.range?.[0] : value.range?.[0]))
            : undefined,
        });
      } else {
        const guess = suggest(path, KNOWN);
        errors.push(
          new ConfigError({
            code: "unknown_key",
            path,
            source: at(isNode(keyNode) ? keyNode.range?.[0] : node.range?.[0]),
            reason: "is not a known setting" + (guess ? `; did you mean \`${guess}\`?` : ""),
            expected: "",
          }),
        );
      }
    }
  };
  walk(doc.contents, "");
  throwAll(errors);
  return out;
}

/** `port: "15006"` or `enabled: "true"`: a document value of the wrong YAML type. */
function wrongType(path: string, type: DocumentType, value: unknown, source: string): ConfigError {
  const quoted = typeof value === "string";
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
