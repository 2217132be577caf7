/**
 * From a parsed config document to settings: the one walk that both
 * document readers share, the YAML one (document.ts, the yaml package) and
 * the plain-JSON one (json_document.ts), so that a JSON file gives the same
 * settings, origins and errors whichever reads it. A reader hands over its
 * tree through a {@linkcode TreeView}; positions are offsets into the text,
 * turned into `<source>:<line>:<col>` by the reader's `at`.
 *
 * @module
 */
import { ConfigError, MAX_SHOWN_PROBLEMS } from "./errors.ts";
import { LEAF_DOCUMENT_TYPES, LEAF_PATHS, OBJECT_PATHS, suggest } from "./keys.ts";
import type { DocumentType } from "./schema.ts";
import { type Setting, type SourceOptions, throwAll } from "./sources.ts";

const LEAVES = new Set(LEAF_PATHS);
const KNOWN = [...LEAF_PATHS, ...OBJECT_PATHS];

/** One key and value of a mapping node. */
export interface TreePair<N> {
  /** The key as text (a YAML key is stringified as the yaml package's own walk does). */
  key: string;
  keyNode: N | null;
  value: N | null;
}

/** What the walk asks of a document tree's nodes. */
export interface TreeView<N> {
  isMap(node: N): boolean;
  isSeq(node: N): boolean;
  isScalar(node: N): boolean;
  /** A null scalar ("not given"). */
  isNull(node: N): boolean;
  /**
   * A mapping's pairs as Go's yaml reads them: a YAML merge key (`<<`) is
   * replaced by the pairs it brings in that the mapping does not set itself.
   */
  pairs(node: N): Iterable<TreePair<N>>;
  items(node: N): readonly (N | null)[];
  /** A scalar's value. */
  scalar(node: N): unknown;
  /** A scalar written in quotes. */
  quoted(node: N): boolean;
  /** Where the node starts in the text. */
  offset(node: N | null): number | undefined;
  /** The node as a plain value; throws a ConfigError for what cannot be one. */
  toJS(node: N): unknown;
  /**
   * The node an alias stands for (YAML `*name`), the node itself otherwise.
   * Asked where a mapping belongs; throws a ConfigError past the alias limit.
   */
  deref(node: N): N;
}

/**
 * Walks a document's root into settings. `at` turns an offset into an
 * origin. Throws every problem found at once (ConfigError).
 */
export function walkDocument<N>(
  root: N | null | undefined,
  view: TreeView<N>,
  at: (offset: number | undefined) => string,
  options: SourceOptions = {},
): Setting[] {
  const out: Setting[] = [];
  const errors: ConfigError[] = [];
  let unknownKeys = 0;
  const absent = (node: N | null | undefined): node is null | undefined =>
    node === null || node === undefined || (view.isScalar(node) && view.isNull(node));

  const walk = (written: N | null | undefined, prefix: string) => {
    if (absent(written)) return;
    const node = view.deref(written);
    if (absent(node)) return;
    if (!view.isMap(node)) {
      errors.push(
        new ConfigError({
          code: "invalid_value",
          path: prefix,
          source: at(view.offset(node) ?? 0),
          // Only a scalar is shown: a list may be as long as the document.
          value: view.isScalar(node) ? view.scalar(node) : undefined,
          reason: view.isSeq(node) ? "is a list, not a mapping" : "is not a mapping",
          expected: prefix ? `the keys of ${prefix}` : "a mapping of settings",
        }),
      );
      return;
    }
    const seen = new Set<string>();
    for (const { key, keyNode, value } of view.pairs(node)) {
      const path = prefix ? `${prefix}.${key}` : key;
      if (seen.has(key)) {
        errors.push(
          new ConfigError({
            code: "parse_error",
            path: "",
            source: at(view.offset(keyNode) ?? view.offset(node)),
            reason:
              `is not valid YAML or JSON: the key ${path} is repeated (map keys must be unique)`,
            expected: "",
          }),
        );
        continue;
      }
      seen.add(key);
      if (OBJECT_PATHS.has(path)) {
        walk(value, path);
      } else if (LEAVES.has(path)) {
        // null is "not given", as when Go unmarshals JSON null into a field.
        if (absent(value)) continue;
        const type = LEAF_DOCUMENT_TYPES.get(path);
        const scalar = view.isScalar(value);
        // A plain `port: x` goes on to the schema, which says "is not a port".
        const plainForNumber = type === "number" && scalar && !view.quoted(value);
        if (type && scalar && typeof view.scalar(value) !== type && !plainForNumber) {
          errors.push(
            wrongType(path, type, view.scalar(value), view.quoted(value), at(view.offset(value))),
          );
          continue;
        }
        out.push({
          path,
          value: view.toJS(value),
          origin: at(view.offset(value)),
          itemOrigins: view.isSeq(value)
            ? view.items(value).map((i) => at(view.offset(i) ?? view.offset(value)))
            : undefined,
        });
      } else {
        // Past what is shown, a suggestion is wasted work (100,000 typos fit in 1 MiB).
        const guess = ++unknownKeys <= MAX_SHOWN_PROBLEMS ? suggest(path, KNOWN) : undefined;
        const unknown = new ConfigError({
          code: "unknown_key",
          path,
          source: at(view.offset(keyNode) ?? view.offset(node)),
          reason: "is not a known setting" + (guess ? `; did you mean \`${guess}\`?` : ""),
          expected: "",
        });
        if (options.onUnknownKey) options.onUnknownKey(unknown);
        else errors.push(unknown);
      }
    }
  };
  walk(root, "");
  throwAll(errors);
  return out;
}

/** `port: "15006"` or `enabled: "true"`: a document value of the wrong YAML type. */
function wrongType(
  path: string,
  type: DocumentType,
  value: unknown,
  quoted: boolean,
  source: string,
): ConfigError {
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
