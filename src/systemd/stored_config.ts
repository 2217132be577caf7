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
  return `${CONFIG_MARKER}
# The boot unit kuma-tproxy.service runs install --config with this file.
# Change it with kuma-tproxy install --store-systemd; do not edit it.
${renderConfigYaml(config, { omit: RUN_SPECIFIC_KEYS })}`;
}
