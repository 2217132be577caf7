/**
 * The reader of --config files for install, status and config: the config
 * file of our boot unit (and any copy of it, by its first line) is read only
 * when it is whole and only root can have written it (issue 22). The boot
 * run applies it as root before the network is up; a cut file is valid
 * YAML that would apply as the defaults, without the SSH exclusion.
 *
 * @module
 */
import { ConfigError } from "../config/errors.ts";
import { bootPaths } from "../systemd/layout.ts";
import { isOurConfig, storedConfigDefect } from "../systemd/stored_config.ts";
import { isSameFile, storedFileDefect } from "../systemd/stored_file.ts";
import type { CliIo } from "./io.ts";

function refused(path: string, defect: string): ConfigError {
  return new ConfigError({
    code: "unreadable_source",
    path: "",
    source: `file:${path}`,
    reason: `the stored config ${defect}; refusing to apply any of it, nothing was changed ` +
      "(run kuma-tproxy install --store-systemd again to rewrite it)",
    expected: "",
  });
}

/**
 * `io.readFile`, checking the stored config: at its path, the file's type,
 * owner and mode first, then the text; elsewhere, the text of a file that
 * starts with our marker line.
 *
 * @example
 * ```ts ignore
 * const resolved = await resolveConfig({ ...inputs, readFile: checkedConfigReader(io) });
 * ```
 */
export function checkedConfigReader(io: CliIo): (path: string) => Promise<string> {
  const stored = bootPaths(io.boot).config;
  return async (path) => {
    // Another spelling of the same path (`./`, `//`, a symlinked directory) counts too.
    const atStoredPath = path === stored || await isSameFile(path, stored);
    if (atStoredPath) {
      const defect = await storedFileDefect(path);
      if (defect) throw refused(path, defect);
    }
    const text = await io.readFile(path);
    if (atStoredPath || isOurConfig(text)) {
      const defect = await storedConfigDefect(text);
      if (defect) throw refused(path, defect);
    }
    return text;
  };
}
