/**
 * Turns each kind of source (defaults, env vars, flags) into a flat list of
 * settings: a leaf path, the raw value as the source gave it, and where it
 * came from. Documents (files, stdin) are in `document.ts`. Nothing here
 * validates values; the schema does, after merging, so that every source
 * gets the same checks.
 *
 * @module
 */
import { defaultConfig } from "./defaults.ts";
import { ConfigError } from "./errors.ts";
import {
  documentValueAt,
  ENV_PATHS,
  ENV_PREFIX,
  EXECUTABLES_PATH,
  LEAF_PATHS,
  suggest,
} from "./keys.ts";
import { EXECUTABLE_NAMES } from "./schema.ts";

/**
 * Where a setting came from: `default`, `file:<path>:<line>:<col>`,
 * `stdin:<line>:<col>`, `env:<NAME>` or `flag:<--flag>`.
 */
export type Origin = string;

/** One flag the user typed, as the CLI collected it. */
export interface FlagInput {
  /** As typed, with dashes: "--redirect-dns-port". */
  flag: string;
  /** Setting path it sets: "redirect.dns.port". */
  path: string;
  /** The value as typed; `true` for a bare boolean flag; all values of a repeatable flag. */
  raw: string | boolean | string[];
}

/** Everything config resolution reads, passed in so that tests can fake it. */
export interface ResolveInputs {
  /** Values of --config / --config-file in order; each a path, comma-separated paths, or "-" for stdin. */
  configSources: string[];
  /** The whole environment; only KUMA_TRANSPARENT_PROXY_* is read. */
  env: Record<string, string>;
  flags: FlagInput[];
  readFile(path: string): Promise<string>;
  readStdin(): Promise<string>;
}

/** Options of the source readers. */
export interface SourceOptions {
  /**
   * Receives each unknown key or `KUMA_TRANSPARENT_PROXY_*` variable instead
   * of failing the source (uninstall's lenient mode); the rest is read as usual.
   */
  onUnknownKey?: (error: ConfigError) => void;
}

/** One raw setting from one source. */
export interface Setting {
  /** Leaf path from keys.ts. */
  path: string;
  value: unknown;
  origin: Origin;
  /** For a list given item by item in a document: where each item is. */
  itemOrigins?: Origin[];
}

/**
 * The defaults as settings, in document form (the schema parses them like any source).
 *
 * @example
 * ```ts
 * import { defaultSettings } from "./sources.ts";
 * const port = defaultSettings().find((s) => s.path === "redirect.dns.port");
 * if (port?.value !== 15053 || port.origin !== "default") throw new Error();
 * ```
 */
export function defaultSettings(): Setting[] {
  const config = defaultConfig();
  const out: Setting[] = [];
  for (const path of LEAF_PATHS) {
    const value = documentValueAt(config, path);
    if (value !== undefined) out.push({ path, value, origin: "default" });
  }
  return out;
}

/**
 * Parses kumactl's `name:path[,name:path]` executables value into one
 * setting per executable.
 */
export function executableSettings(value: string, origin: Origin): Setting[] {
  const out: Setting[] = [];
  const errors: ConfigError[] = [];
  for (const entry of value.split(",").map((e) => e.trim()).filter((e) => e !== "")) {
    const colon = entry.indexOf(":");
    const name = entry.slice(0, colon).trim();
    const path = entry.slice(colon + 1).trim();
    if (colon < 0 || name === "" || path === "") {
      errors.push(
        new ConfigError({
          code: "invalid_value",
          path: EXECUTABLES_PATH,
          source: origin,
          value: entry,
          reason: "is not an executable override",
          expected: "name:path, like iptables:/usr/sbin/iptables-nft",
        }),
      );
    } else if (!(EXECUTABLE_NAMES as string[]).includes(name)) {
      const guess = suggest(name, EXECUTABLE_NAMES);
      errors.push(
        new ConfigError({
          code: "unknown_key",
          path: `${EXECUTABLES_PATH}.${name}`,
          source: origin,
          value: entry,
          reason: "is not a known executable" + (guess ? `; did you mean \`${guess}\`?` : ""),
          expected: EXECUTABLE_NAMES.join(", "),
        }),
      );
    } else {
      out.push({ path: `${EXECUTABLES_PATH}.${name}`, value: path, origin });
    }
  }
  throwAll(errors);
  return out;
}

/**
 * Reads the `KUMA_TRANSPARENT_PROXY_*` env vars, always (kumactl skipped
 * them when no --config was given: kumactl quirk K8.1, docs/kumactl.md#k8-1). An unknown var in our
 * namespace is an error, since it is almost always a typo.
 *
 * @example
 * ```ts
 * import { envSettings } from "./sources.ts";
 * const [s] = envSettings({ KUMA_TRANSPARENT_PROXY_REDIRECT_DNS_PORT: "53", HOME: "/root" });
 * if (s.path !== "redirect.dns.port" || s.origin !== "env:KUMA_TRANSPARENT_PROXY_REDIRECT_DNS_PORT") {
 *   throw new Error();
 * }
 * ```
 */
export function envSettings(env: Record<string, string>, options: SourceOptions = {}): Setting[] {
  const out: Setting[] = [];
  const errors: ConfigError[] = [];
  // Sorted so that settings and errors come out the same on every run.
  for (const name of Object.keys(env).filter((n) => n.startsWith(ENV_PREFIX)).sort()) {
    const origin = `env:${name}`;
    const path = ENV_PATHS.get(name);
    if (path === undefined) {
      const guess = suggest(name, ENV_PATHS.keys());
      const unknown = new ConfigError({
        code: "unknown_key",
        path: name,
        source: origin,
        value: env[name],
        reason: "is not a known setting" + (guess ? `; did you mean \`${guess}\`?` : ""),
        expected: "",
      });
      if (options.onUnknownKey) options.onUnknownKey(unknown);
      else errors.push(unknown);
      continue;
    }
    try {
      if (path === EXECUTABLES_PATH) out.push(...executableSettings(env[name], origin));
      else out.push({ path, value: env[name], origin });
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      errors.push(e);
    }
  }
  throwAll(errors);
  return out;
}

const DNS_FLAGS = ["--redirect-dns", "--redirect-all-dns-traffic"];

/**
 * Turns the flags the user typed into settings, in the order given (so a
 * later flag for the same setting wins).
 *
 * @example
 * ```ts
 * import { flagSettings } from "./sources.ts";
 * const [s] = flagSettings([{ flag: "--verbose", path: "verbose", raw: true }]);
 * if (s.value !== true || s.origin !== "flag:--verbose") throw new Error();
 * ```
 */
export function flagSettings(flags: FlagInput[]): Setting[] {
  const given = flags.filter((f) => DNS_FLAGS.includes(f.flag));
  if (new Set(given.map((f) => f.flag)).size > 1) {
    // kumactl rejects the pair outright, whatever the values.
    throw new ConfigError({
      code: "conflict",
      path: "redirect.dns",
      source: `flag:${DNS_FLAGS[1]}`,
      reason: "cannot be combined with --redirect-dns",
      expected: "only one of --redirect-dns or --redirect-all-dns-traffic",
    });
  }
  const out: Setting[] = [];
  const errors: ConfigError[] = [];
  for (const f of flags) {
    const origin = `flag:${f.flag}`;
    if (f.path !== EXECUTABLES_PATH) {
      out.push({ path: f.path, value: f.raw, origin });
      continue;
    }
    const values = Array.isArray(f.raw) ? f.raw : [String(f.raw)];
    try {
      out.push(...values.flatMap((v) => executableSettings(v, origin)));
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      errors.push(e);
    }
  }
  throwAll(errors);
  return out;
}

/** Throws all errors as one, if there are any. */
export function throwAll(errors: ConfigError[]): void {
  const combined = ConfigError.combine(errors);
  if (combined) throw combined;
}
