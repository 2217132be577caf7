/**
 * The config file the boot unit applies: the resolved config as the YAML of
 * `kuma-tproxy config`, which `install --config` reads back to the same
 * config, behind a header that marks the file as ours.
 *
 * The YAML writer (src/config/explain.ts and the yaml package) is imported
 * when a file's text is rendered: install and uninstall load this module for
 * {@linkcode isOurConfig} on every run, and yaml loads as CommonJS, which
 * costs tens of milliseconds of start-up.
 *
 * @module
 */
import type { Config } from "../config/types.ts";

/** First line of every config file we store; uninstall removes only a file that starts with it. */
export const CONFIG_MARKER =
  "# Written by kuma-tproxy install --store-systemd; kuma-tproxy uninstall removes it.";

/**
 * Settings about this run rather than the rules, left out so that they read
 * back as their defaults (false): the boot run must not be a dry run, and it
 * must only apply the rules, not store them again (at boot, /etc may still be
 * read-only, and the unit must not rewrite itself). Where persistence went is
 * recorded by the unit's existence, not in its config.
 */
export const RUN_SPECIFIC_KEYS: readonly string[] = [
  "dryRun",
  "storeFirewalld",
  "storeSystemd",
  "allowFirewalldFlush",
];

/**
 * Whether a stored config file's text is one of ours.
 *
 * @example
 * ```ts
 * import { isOurConfig } from "./stored_config.ts";
 * if (isOurConfig("kumaDPUser: kuma-dp\n")) throw new Error();
 * ```
 */
export function isOurConfig(text: string): boolean {
  return text.startsWith(`${CONFIG_MARKER}\n`);
}

/**
 * The file's text. The same config always renders to the same bytes, which
 * is how `status` tells whether the stored config matches the current one.
 *
 * @example
 * ```ts
 * import { renderStoredConfig } from "./stored_config.ts";
 * import { defaultConfig } from "../config/defaults.ts";
 * const text = await renderStoredConfig({ ...defaultConfig(), storeSystemd: true });
 * if (text.includes("storeSystemd") || !text.includes("\nkumaDPUser: \"\"\n")) throw new Error(text);
 * ```
 */
export async function renderStoredConfig(config: Config): Promise<string> {
  const { renderConfigYaml } = await import("../config/explain.ts");
  const body = `${CONFIG_MARKER}
# The boot unit kuma-tproxy.service runs install --config with this file.
# Change it with kuma-tproxy install --store-systemd; do not edit it.
${renderConfigYaml(config, { omit: RUN_SPECIFIC_KEYS })}`;
  return `${body}${SUM_PREFIX}${await sha256Hex(body)}\n`;
}

/**
 * The last line of a stored config: the SHA-256 of every byte before it. A
 * YAML comment, so kumactl and kuma-dp read the file as before; the boot run
 * verifies it, because a file cut at any line boundary (a full disk, a crash
 * before the data reached it) is still valid YAML and would apply as the
 * defaults: no SSH exclusion, perhaps the other backend.
 */
const SUM_PREFIX = "# kuma-tproxy: sha256=";

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Why `text` is not a whole stored config as install wrote it, or undefined
 * when it is: our marker first, and a last line whose SHA-256 matches all
 * the bytes before it.
 *
 * @example
 * ```ts
 * import { renderStoredConfig, storedConfigDefect } from "./stored_config.ts";
 * import { defaultConfig } from "../config/defaults.ts";
 * const text = await renderStoredConfig(defaultConfig());
 * if (await storedConfigDefect(text) !== undefined) throw new Error();
 * if (await storedConfigDefect(text.slice(0, text.lastIndexOf("# kuma-tproxy:"))) === undefined) {
 *   throw new Error("a file without its last line must be refused");
 * }
 * ```
 */
export async function storedConfigDefect(text: string): Promise<string | undefined> {
  if (text === "") return "is empty";
  if (!isOurConfig(text)) return "does not start with the line kuma-tproxy writes";
  const last = text.lastIndexOf(`\n${SUM_PREFIX}`);
  const sum = last < 0 ? "" : text.slice(last + 1 + SUM_PREFIX.length);
  if (!/^[0-9a-f]{64}\n$/.test(sum)) {
    return "does not end with its sha256 line (cut short, or written by an older kuma-tproxy)";
  }
  if (sum.slice(0, 64) !== await sha256Hex(text.slice(0, last + 1))) {
    return "does not match its sha256 line (changed or damaged after install wrote it)";
  }
  return undefined;
}
