/**
 * `kuma-tproxy config --output FILE`: the resolved config as one YAML file
 * that `install --config`, kumactl's `--config` and kuma-dp's
 * `--transparent-proxy-config` all read.
 *
 * The body is the stored boot config's (src/systemd/stored_config.ts): the
 * YAML of `kuma-tproxy config` without the settings about one run (dryRun,
 * the store switches), which read back as their defaults. Our own keys that
 * kuma does not know (backend, for one) stay: kuma's loader
 * (`pkg/config/loader.go`) parses with `yaml.Unmarshal`, not
 * `UnmarshalStrict`, unless `WithStrictParsing()` is asked for, and neither
 * kumactl (`install_transparent_proxy.go`) nor kuma-dp (`app/kuma-dp/cmd/run.go`,
 * `--transparent-proxy-config`) asks, so they ignore unknown keys. kuma-dp
 * reads only `ipFamilyMode`, `redirect.{inbound,outbound,dns}.{enabled,port}`
 * and `redirect.vnet.networks` (`pkg/transparentproxy/config/dataplane`).
 *
 * @module
 */
import type { Config } from "../config/types.ts";
import { RUN_SPECIFIC_KEYS } from "../systemd/stored_config.ts";
import { replaceFile } from "../os/durable_file.ts";
import { UserError } from "./errors.ts";
import { EXIT } from "./exit_codes.ts";

/** The first lines of the file: what it is, for whoever opens it. */
const HEADER = `# Written by kuma-tproxy config --output: the effective transparent-proxy config.
# Read by kuma-tproxy install --config, kumactl install transparent-proxy --config
# and kuma-dp run --transparent-proxy-config (unknown keys are ignored there).
`;

/**
 * The file's text.
 *
 * @example
 * ```ts
 * import { renderOutputConfig } from "./config_output.ts";
 * import { defaultConfig } from "../config/defaults.ts";
 * const text = await renderOutputConfig({ ...defaultConfig(), dryRun: true });
 * if (text.includes("dryRun") || !text.includes("\nipFamilyMode: dualstack\n")) throw new Error();
 * ```
 */
export async function renderOutputConfig(config: Config): Promise<string> {
  const { renderConfigYaml } = await import("../config/explain.ts");
  return HEADER + renderConfigYaml(config, { omit: RUN_SPECIFIC_KEYS });
}

/**
 * Writes the file atomically (src/os/durable_file.ts), mode 0644: kuma-dp
 * runs as its own user and must read it. A directory or a symlink at `path`
 * is refused (exit 2), nothing written: replacing a symlink would write
 * somewhere the user did not name.
 */
export async function writeOutputConfig(path: string, config: Config): Promise<void> {
  let info: Deno.FileInfo | undefined;
  try {
    info = await Deno.lstat(path);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  if (info?.isSymlink) {
    throw new UserError(`--output ${path}: is a symlink; name the file itself`, EXIT.USAGE);
  }
  if (info !== undefined && !info.isFile) {
    throw new UserError(`--output ${path}: is not a regular file`, EXIT.USAGE);
  }
  const text = await renderOutputConfig(config);
  try {
    await replaceFile(path, text, { mode: 0o644 });
  } catch (e) {
    if (e instanceof Deno.errors.NotCapable) {
      throw new UserError(
        `--output ${path}: kuma-tproxy may write only under /etc/kuma-tproxy ` +
          `(scripts/permissions.txt); use that directory, or --output - > ${path}`,
        EXIT.USAGE,
      );
    }
    if (e instanceof Deno.errors.NotFound) {
      throw new UserError(`--output ${path}: its directory does not exist`, EXIT.USAGE);
    }
    throw e;
  }
}
