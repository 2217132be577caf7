/**
 * Config resolution: reads every source, merges them leaf by leaf
 * (defaults < each --config source in order < env vars < flags), validates
 * the result once with the schema, and remembers where each value came from.
 *
 * @module
 */
import type { Config } from "./types.ts";
import { BoundedReadError } from "../os/bounded_read.ts";
import { ConfigError } from "./errors.ts";
import { LEAF_PATHS, OBJECT_PATHS } from "./keys.ts";
import { configSchema, type IssueParams } from "./schema.ts";
import {
  defaultSettings,
  envSettings,
  flagSettings,
  type Origin,
  type ResolveInputs,
  type Setting,
  type SourceOptions,
  throwAll,
} from "./sources.ts";

export type { FlagInput, Origin, ResolveInputs } from "./sources.ts";

/** The resolved config and, for every leaf setting, where its value came from. */
export interface Resolved {
  config: Config;
  /** Keyed by dotted leaf path ("redirect.dns.port"). */
  origins: Record<string, Origin>;
  /** What a lenient resolve ignored (unknown keys and variables), one message each. */
  warnings?: string[];
}

/** Options of {@linkcode resolveConfig}. */
export interface ResolveOptions {
  /**
   * Unknown keys in config sources and unknown `KUMA_TRANSPARENT_PROXY_*`
   * variables become warnings (`Resolved.warnings`) instead of errors; every
   * other problem still fails. For uninstall, the emergency path: a typo
   * must not keep our rules in the kernel.
   */
  lenient?: boolean;
}

/**
 * Splits --config values into single sources: comma-separated paths are
 * split, empty values are ignored (as kumactl does), and stdin may be read
 * only once.
 */
export function splitConfigSources(values: string[]): string[] {
  const sources = values.flatMap((v) => (looksInline(v) ? [v] : v.split(",")))
    .map((v) => v.trim()).filter((v) => v !== "");
  if (sources.filter((s) => s === "-").length > 1) {
    throw new ConfigError({
      code: "conflict",
      path: "",
      source: "flag:--config",
      reason: "stdin (-) is given more than once; it can be read only once",
      expected: "",
    });
  }
  return sources;
}

async function readSource(
  source: string,
  inputs: ResolveInputs,
  options: SourceOptions,
): Promise<Setting[]> {
  const name = source === "-" ? "stdin" : `file:${source}`;
  let text: string;
  try {
    text = source === "-" ? await inputs.readStdin() : await inputs.readFile(source);
  } catch (e) {
    // The reader's own refusal (the CLI's check of the stored boot config) says it all.
    if (e instanceof ConfigError) throw e;
    // Only a value that is not a file is inline YAML: a file may have any name.
    if (!(e instanceof BoundedReadError) && looksInline(source)) throw inlineError(source);
    throw sourceReadError(e, name);
  }
  // Both readers are imported here, for the first document, not by every
  // run. Plain JSON (what tools write, and the large configs) is read
  // without the yaml package, which costs tens of milliseconds to load.
  const { jsonDocumentSettings } = await import("./json_document.ts");
  const json = jsonDocumentSettings(text, name, options);
  if (json) return json;
  const { documentSettings } = await import("./document.ts");
  return documentSettings(text, name, options);
}

/**
 * Whether a --config value looks like YAML rather than a path: a newline
 * (or a typed `\n`), a flow mapping or list, or `key: value`. kumactl
 * 2.9-2.10 took inline YAML there; 2.11+ takes files only (kuma PR #13478).
 * Such a value is not split at its commas (`{ a: 1, b: 2 }`).
 */
function looksInline(value: string): boolean {
  const t = value.trim();
  return /\n|\\n/.test(t) || /^[{[]/.test(t) || /^[A-Za-z_][\w.-]*:(\s|$)/.test(t);
}

function inlineError(value: string): ConfigError {
  return new ConfigError({
    code: "unsupported",
    path: "--config",
    source: "flag:--config",
    value,
    reason: "is inline YAML, not a file path; kumactl 2.11+ refuses it too",
    expected: "a file, or - with the YAML on stdin: kuma-tproxy install --config - <<'EOF' " +
      "(one setting per line) EOF",
  });
}

/** A config source that could not be read, as a problem with the whole source. */
function sourceReadError(e: unknown, name: string): ConfigError {
  if (e instanceof BoundedReadError && e.position) {
    // Invalid UTF-8: name the line, like a YAML syntax error.
    return new ConfigError({
      code: "parse_error",
      path: "",
      source: `${name}:${e.position.line}:${e.position.column}`,
      reason: `is not valid UTF-8 (expected UTF-8 text)`,
      expected: "",
    });
  }
  const stdin = e instanceof BoundedReadError && e.code === "not_regular" &&
      !e.expected.startsWith("- ")
    ? ", or - for stdin"
    : "";
  return new ConfigError({
    code: "unreadable_source",
    path: "",
    source: name,
    reason: e instanceof BoundedReadError
      ? `--config source ${e.reason} (expected ${e.expected}${stdin})`
      : `--config source cannot be read: ${e instanceof Error ? e.message : String(e)}`,
    expected: "",
  });
}

function nest(settings: Iterable<Setting>): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  // Every object exists even when none of its leaves is set (iptablesExecutables).
  for (const path of OBJECT_PATHS) nestValue(root, path, {});
  for (const { path, value } of settings) nestValue(root, path, value);
  return root;
}

function nestValue(root: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split(".");
  let node = root;
  for (const key of keys.slice(0, -1)) node = (node[key] ??= {}) as Record<string, unknown>;
  // Objects come first and must not be replaced; each leaf is set once.
  node[keys[keys.length - 1]] ??= value;
}

/** Finds the setting (and list item) a schema issue path points into. */
function originOf(merged: Map<string, Setting>, path: PropertyKey[]): [string, Origin] {
  for (let i = path.length; i > 0; i--) {
    const leaf = path.slice(0, i).join(".");
    const setting = merged.get(leaf);
    if (!setting) continue;
    const index = path[i];
    const item = typeof index === "number" ? setting.itemOrigins?.[index] : undefined;
    return [leaf, item ?? setting.origin];
  }
  return [path.join("."), "default"];
}

/**
 * Resolves the config from all sources.
 *
 * @example
 * ```ts
 * import { resolveConfig } from "./resolve.ts";
 * const { config, origins } = await resolveConfig({
 *   configSources: ["/tp.yaml"],
 *   env: { KUMA_TRANSPARENT_PROXY_REDIRECT_DNS_PORT: "5353" },
 *   flags: [],
 *   readFile: () => Promise.resolve("redirect: {dns: {port: 53, enabled: true}}"),
 *   readStdin: () => Promise.resolve(""),
 * });
 * if (config.redirect.dns.port !== 5353) throw new Error();
 * if (origins["redirect.dns.enabled"] !== "file:/tp.yaml:1:37") throw new Error();
 * ```
 */
export async function resolveConfig(
  inputs: ResolveInputs,
  options: ResolveOptions = {},
): Promise<Resolved> {
  const layers: Setting[][] = [defaultSettings()];
  const errors: ConfigError[] = [];
  const warnings: string[] = [];
  const sourceOptions: SourceOptions = options.lenient
    ? { onUnknownKey: (e) => warnings.push(e.message) }
    : {};
  const collect = async (read: () => Setting[] | Promise<Setting[]>) => {
    try {
      layers.push(await read());
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      errors.push(e);
    }
  };
  for (const source of splitConfigSources(inputs.configSources)) {
    await collect(() => readSource(source, inputs, sourceOptions));
  }
  await collect(() => envSettings(inputs.env, sourceOptions));
  await collect(() => flagSettings(inputs.flags));
  throwAll(errors);

  // A later layer replaces a whole leaf, lists included: kumactl's
  // "lists are replaced, absent keys are kept".
  const merged = new Map<string, Setting>();
  for (const setting of layers.flat()) merged.set(setting.path, setting);

  const result = configSchema.safeParse(nest(merged.values()));
  if (!result.success) {
    throwAll(result.error.issues.map((issue) => {
      const [path, source] = originOf(merged, issue.path);
      const params = (issue as { params?: IssueParams }).params;
      return new ConfigError({
        code: params?.configCode ??
          (issue.code === "unrecognized_keys" ? "unknown_key" : "invalid_value"),
        path,
        source,
        value: params ? params.value : issue.input,
        reason: params?.reason ?? issue.message,
        expected: params?.expected ?? "",
      });
    }));
  }
  const config = result.data as Config;
  const origins: Record<string, Origin> = {};
  for (const path of LEAF_PATHS) {
    const setting = merged.get(path);
    if (setting) origins[path] = setting.origin;
  }
  // kumactl forces DNS redirection on when all DNS traffic is captured.
  if (config.redirect.dns.captureAll && !config.redirect.dns.enabled) {
    config.redirect.dns.enabled = true;
    origins["redirect.dns.enabled"] = origins["redirect.dns.captureAll"];
  }
  return options.lenient ? { config, origins, warnings } : { config, origins };
}
