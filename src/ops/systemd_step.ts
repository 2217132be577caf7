/**
 * The CLI's side of boot persistence with systemd (src/systemd): what the
 * files would hold for a config, staging them for install, removing them for
 * uninstall, and the facts `status` reports.
 *
 * @module
 */
import type { Config } from "../config/types.ts";
import { bootFilesAsWritten, readBootState, type SystemdHostIo } from "../systemd/boot_files.ts";
import { choosePersistence, type PersistChoice } from "../systemd/choice.ts";
import { bootPaths } from "../systemd/layout.ts";
import { renderStoredConfig } from "../systemd/stored_config.ts";
import { storedFileDefect } from "../systemd/stored_file.ts";
import { renderUnit } from "../systemd/unit_file.ts";
import type { FirewalldHost } from "./firewalld_step.ts";
import type { OpsIo } from "./io.ts";
import type { BootUnitStatus } from "./status_report.ts";

/** The host as src/systemd sees it, from the CLI's io. */
export function systemdHost(io: OpsIo): SystemdHostIo {
  return {
    dirs: { unitDir: io.boot.unitDir, configDir: io.boot.configDir },
    runtimeDir: io.boot.runtimeDir,
    runner: io.runner,
    readFile: io.readFile,
  };
}

/** The unit and config texts install would write for `config`. */
export async function bootFiles(
  config: Config,
  io: OpsIo,
): Promise<{ unit: string; config: string }> {
  const paths = bootPaths(io.boot);
  return {
    unit: renderUnit({ command: io.selfCommand, configPath: paths.config }),
    config: await renderStoredConfig(config),
  };
}

/** Where the rules are persisted for this config on this host. */
export function persistChoice(config: Config, host: FirewalldHost): PersistChoice {
  return choosePersistence({
    backend: config.backend,
    storeFirewalld: config.storeFirewalld,
    storeSystemd: config.storeSystemd,
    firewalld: host.running ? "running" : host.installed ? "stopped" : "absent",
  });
}

/** The dry-run listing of what --store-systemd would write. */
export async function renderSystemdDryRun(config: Config, io: OpsIo): Promise<string> {
  const paths = bootPaths(io.boot);
  const files = await bootFiles(config, io);
  return `\n### systemd (${paths.unit}) ###\n\n${files.unit}` +
    `\n### systemd (${paths.config}) ###\n\n${files.config}` +
    `\n### systemd: enable (${paths.wantsLink} -> ${paths.unit}) ###\n`;
}

/**
 * The boot unit's state for `status`; undefined when the config does not ask
 * for it and nothing of ours is there.
 */
export async function bootUnitStatus(
  io: OpsIo,
  config: Config,
  options: { asked: boolean },
): Promise<BootUnitStatus | undefined> {
  const state = await readBootState(systemdHost(io));
  const present = [state.unit.ownership, state.config.ownership, state.link].includes("ours");
  if (!options.asked && !present) return undefined;
  const want = await bootFiles(config, io);
  // The right bytes in a file the boot run refuses (a symlink, mode 0666) do not count.
  const refused = state.config.ownership === "ours"
    ? await storedFileDefect(state.paths.config)
    : undefined;
  // A commit also leaves both as root's regular files with its modes: a unit
  // another user could change is not what install writes, whatever its text.
  const matches = state.unit.text === want.unit && state.config.text === want.config &&
    state.link === "ours" && refused === undefined &&
    await bootFilesAsWritten(systemdHost(io).dirs);
  return {
    ...(refused ? { refused } : {}),
    mechanism: "systemd",
    unit: state.unit.ownership,
    config: state.config.ownership,
    enabled: state.link === "ours",
    systemdRunning: state.systemdRunning,
    matches,
    paths: { unit: state.paths.unit, config: state.paths.config },
  };
}

/**
 * A warning when install runs without --store-systemd while our unit would
 * apply a different config at the next boot; undefined otherwise (the boot
 * run itself applies exactly the stored config).
 */
export async function staleUnitWarning(config: Config, io: OpsIo): Promise<string | undefined> {
  let state;
  try {
    state = await readBootState(systemdHost(io));
  } catch {
    // Unreadable (a non-root dry run cannot read the 0600 config): no warning, no failure.
    return undefined;
  }
  if (state.unit.ownership !== "ours") return undefined;
  if (state.config.text === await renderStoredConfig(config)) return undefined;
  return `the boot unit ${state.paths.unit} applies a different config at the next boot ` +
    `(${state.paths.config}); add --store-systemd to store this one, or run uninstall first`;
}
