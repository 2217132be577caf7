/**
 * The list of settings, derived from the schema so that the two cannot
 * drift: leaf paths in `types.ts` order, the nested objects, the env var
 * names, and "did you mean" suggestions for unknown keys.
 *
 * @module
 */
import { z } from "zod";
import {
  CONFIG_SHAPE,
  type DocumentType,
  documentTypeOf,
  formatOf,
  type LeafFormat,
} from "./schema.ts";

/** Prefix of every env var (kumactl `envconfig.Process("KUMA_TRANSPARENT_PROXY", ...)`). */
export const ENV_PREFIX = "KUMA_TRANSPARENT_PROXY_";

/** The one setting whose children are set together from a `name:path,...` string. */
export const EXECUTABLES_PATH = "iptablesExecutables";

function walk(shape: Record<string, unknown>, prefix: string, leaves: string[], objects: string[]) {
  for (const [key, schema] of Object.entries(shape)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (schema instanceof z.ZodObject) {
      objects.push(path);
      walk(schema.shape, path, leaves, objects);
    } else {
      leaves.push(path);
      const type = documentTypeOf(schema);
      if (type) documentTypes.set(path, type);
      const format = formatOf(schema);
      if (format) formats.set(path, format);
    }
  }
}

const leaves: string[] = [];
const objects: string[] = [];
const documentTypes = new Map<string, DocumentType>();
const formats = new Map<string, LeafFormat>();
walk(CONFIG_SHAPE.shape, "", leaves, objects);

/** Every leaf setting path, in `types.ts` order ("redirect.dns.port", "iptablesExecutables.iptables"). */
export const LEAF_PATHS: readonly string[] = leaves;
/** Every nested object path ("redirect", "redirect.dns", "iptablesExecutables"). */
export const OBJECT_PATHS: ReadonlySet<string> = new Set(objects);
/** Leaves whose value in a YAML/JSON document must be a number or a boolean ("redirect.dns.port"). */
export const LEAF_DOCUMENT_TYPES: ReadonlyMap<string, DocumentType> = documentTypes;
/**
 * Leaves whose parsed value is written back through a formatter
 * ("retry.sleepBetweenRetries": milliseconds to "2s"); the others are written as they are.
 */
export const LEAF_FORMATS: ReadonlyMap<string, LeafFormat> = formats;

/**
 * A leaf of a parsed config as a config document writes it (through its
 * formatter), so that the schema parses it back to the same value.
 *
 * @example
 * ```ts
 * import { documentValueAt } from "./keys.ts";
 * import { defaultConfig } from "./defaults.ts";
 * if (documentValueAt(defaultConfig(), "retry.sleepBetweenRetries") !== "2s") throw new Error();
 * ```
 */
export function documentValueAt(config: object, path: string): unknown {
  const value = path.split(".").reduce<unknown>(
    (node, key) => (node as Record<string, unknown> | undefined)?.[key],
    config,
  );
  const format = formats.get(path);
  return format && value !== undefined ? format(value as never) : value;
}

/**
 * Upper-snake form of a camelCase key, as envconfig's `split_words` gives it,
 * keeping plural acronyms whole: kumaDPUser -> KUMA_DP_USER,
 * excludePortsForIPs -> EXCLUDE_PORTS_FOR_IPS.
 */
export function upperSnake(key: string): string {
  const words = key.match(/[A-Z]+s(?=[A-Z]|$)|[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z0-9]+|[A-Z]+/g) ?? [];
  return words.map((w) => w.toUpperCase()).join("_");
}

/**
 * The env var of a setting path.
 *
 * @example
 * ```ts
 * import { envNameFor } from "./keys.ts";
 * if (envNameFor("redirect.dns.captureAll") !== "KUMA_TRANSPARENT_PROXY_REDIRECT_DNS_CAPTURE_ALL") {
 *   throw new Error();
 * }
 * ```
 */
export function envNameFor(path: string): string {
  return ENV_PREFIX + path.split(".").map(upperSnake).join("_");
}

/**
 * Env var name to setting path. The executables share one var
 * (`IPTABLES_EXECUTABLES=name:path,...`), as in kumactl.
 */
export const ENV_PATHS: ReadonlyMap<string, string> = new Map([
  ...LEAF_PATHS.filter((p) => !p.startsWith(`${EXECUTABLES_PATH}.`)).map((p) =>
    [envNameFor(p), p] as const
  ),
  [envNameFor(EXECUTABLES_PATH), EXECUTABLES_PATH],
]);

function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length];
}

/**
 * The candidate closest to `input` (case-insensitive edit distance), if it
 * is close enough to be a plausible typo.
 *
 * @example
 * ```ts
 * import { suggest } from "./keys.ts";
 * if (suggest("redirect.dns.prot", ["redirect.dns.port", "verbose"]) !== "redirect.dns.port") {
 *   throw new Error();
 * }
 * ```
 */
export function suggest(input: string, candidates: Iterable<string>): string | undefined {
  const needle = input.toLowerCase();
  let best: string | undefined;
  let bestScore = Infinity;
  for (const c of candidates) {
    const d = distance(needle, c.toLowerCase());
    if (d < bestScore) [best, bestScore] = [c, d];
  }
  // A third of the length catches typos and case slips without suggesting
  // unrelated settings for garbage.
  return bestScore <= Math.max(2, Math.floor(needle.length / 3)) ? best : undefined;
}
