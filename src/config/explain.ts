/**
 * Output of `kuma-tproxy config [--explain]`: the resolved config as YAML
 * that can be fed back with --config, and the per-setting origins that
 * answer "where did this value come from?" when files, env vars and flags
 * are mixed.
 *
 * @module
 */
import { stringify } from "yaml";
import type { Config } from "./types.ts";
import { documentValueAt as valueAt, LEAF_PATHS } from "./keys.ts";
import type { Resolved } from "./resolve.ts";

/** The config rebuilt leaf by leaf in `types.ts` order, so output never depends on object history. */
function ordered(config: Config, omit: readonly string[]): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const path of LEAF_PATHS) {
    if (omit.includes(path)) continue;
    const keys = path.split(".");
    let node = root;
    for (const key of keys.slice(0, -1)) node = (node[key] ??= {}) as Record<string, unknown>;
    const value = valueAt(config, path);
    if (value !== undefined) node[keys[keys.length - 1]] = value;
  }
  // Keep the (possibly empty) executables map, so the YAML shows the key.
  root.iptablesExecutables ??= {};
  return root;
}

/** Options of {@linkcode renderConfigYaml}. */
export interface RenderConfigOptions {
  /** Leaf paths left out, so that they take their defaults when the YAML is read back. */
  omit?: readonly string[];
}

/**
 * The resolved config as YAML, keys in `types.ts` order.
 *
 * @example
 * ```ts
 * import { renderConfigYaml } from "./explain.ts";
 * import { defaultConfig } from "./defaults.ts";
 * if (!renderConfigYaml(defaultConfig()).startsWith('kumaDPUser: ""\nipFamilyMode: dualstack\n')) {
 *   throw new Error();
 * }
 * ```
 */
export function renderConfigYaml(config: Config, options: RenderConfigOptions = {}): string {
  return stringify(ordered(config, options.omit ?? []), { lineWidth: 0 });
}

function showLeaf(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(showLeaf).join(", ")}]`;
  if (typeof value === "string") {
    return /^[\w./:+*,@-]+$/.test(value) ? value : JSON.stringify(value);
  }
  return String(value);
}

/**
 * One line per leaf setting, `path: value  (origin)`, in `types.ts` order.
 *
 * @example
 * ```ts
 * import { renderExplain } from "./explain.ts";
 * import { defaultConfig } from "./defaults.ts";
 * const text = renderExplain({ config: defaultConfig(), origins: {} });
 * if (!text.includes("redirect.dns.port: 15053  (default)\n")) throw new Error();
 * ```
 */
export function renderExplain(resolved: Resolved): string {
  const lines: string[] = [];
  for (const path of LEAF_PATHS) {
    const value = valueAt(resolved.config, path);
    if (value === undefined) continue;
    lines.push(`${path}: ${showLeaf(value)}  (${resolved.origins[path] ?? "default"})`);
  }
  return lines.join("\n") + "\n";
}
