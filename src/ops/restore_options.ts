/**
 * How install and uninstall run iptables-restore: lock waits and retries
 * from the config, progress lines to stderr.
 *
 * @module
 */
import type { Config } from "../config/types.ts";
import type { RestoreOptions } from "../iptables/restore_exec.ts";
import type { OpsIo } from "./io.ts";
import { info } from "./log.ts";

/**
 * The restore options of `config`, logging through `io`.
 *
 * @example
 * ```ts
 * import { defaultConfig } from "../config/defaults.ts";
 * import { restoreOptions } from "./restore_options.ts";
 * import type { OpsIo } from "./io.ts";
 * const o = restoreOptions(defaultConfig(), { err: () => {} } as unknown as OpsIo);
 * if (o.maxRetries !== defaultConfig().retry.maxRetries) throw new Error();
 * ```
 */
export function restoreOptions(config: Config, io: OpsIo): RestoreOptions {
  return {
    wait: config.wait,
    waitInterval: config.waitInterval,
    maxRetries: config.retry.maxRetries,
    sleepMs: config.retry.sleepBetweenRetries,
    log: (line) => info(io, line),
  };
}
