/**
 * The side of boot persistence that touches the disk and systemctl: stage
 * the unit and its config next to their final paths, move them into place
 * and enable the unit, put the previous files back when a step fails, remove
 * them again, and read what is there for `status`.
 *
 * Two phases, so that install can check that it can write before it touches
 * the kernel: {@linkcode stageBootFiles} writes the new files under temporary
 * names (a failure changes nothing), {@linkcode StagedBoot.commit} renames them
 * over the old ones (rename(2) is atomic within a directory) and enables.
 *
 * @module
 */
import { BoundedReadError } from "../os/bounded_read.ts";
import { dirname, StagedCommit, syncDirectory, writeSyncedFile } from "../os/durable_file.ts";
import type { Runner } from "../os/runner.ts";
import { SystemdError } from "./errors.ts";
import { type BootDirs, type BootPaths, bootPaths, enableLink, UNIT_NAME } from "./layout.ts";
import { isOurConfig } from "./stored_config.ts";
import { isOurUnit } from "./unit_file.ts";

/** What boot persistence needs from the host. */
export interface SystemdHostIo {
  dirs: BootDirs;
  /**
   * systemd runs as PID 1 when this directory exists (sd_booted(3)):
   * /run/systemd/system. Otherwise (image build, chroot, container) we do
   * what `systemctl enable` would, on the files.
   */
  runtimeDir: string;
  runner: Runner;
  /** Reads a file (the CLI's capped reader); rejects with Deno.errors.NotFound when it is missing. */
  readFile(path: string): Promise<string>;
}

/** Unit mode: systemd's own units are 0644. The config holds no secret but is root's only: 0600. */
const UNIT_MODE = 0o644;
const CONFIG_MODE = 0o600;
/** `systemctl enable` creates a missing `.wants` directory with 0755. */
const DIR_MODE = 0o755;

/**
 * Our temporary names beside a file: systemd ignores names that do not end in a
 * unit suffix, so a leftover `.kuma-tproxy.service.new` is never loaded.
 */
const staged = (path: string, kind: "new" | "old") => {
  const i = path.lastIndexOf("/");
  return `${path.slice(0, i)}/.${path.slice(i + 1)}.${kind}`;
};

export type Ownership = "absent" | "ours" | "foreign";

/** What is on disk at our paths. */
export interface BootState {
  paths: BootPaths;
  unit: { ownership: Ownership; text: string | null };
  config: { ownership: Ownership; text: string | null };
  /** The `WantedBy` symlink: ours when it points at our unit. */
  link: Ownership;
  /** systemd runs as PID 1. */
  systemdRunning: boolean;
}

function detail(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (e) {
    // A file where a parent directory should be: the path cannot exist.
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) return false;
    throw new SystemdError("io", `cannot inspect ${path}: ${detail(e)}`, path, { cause: e });
  }
}

/** What {@link readOrNull} returns for something that is not a regular file. */
const NOT_A_FILE = Symbol("not a regular file");

/**
 * A file's text; null when nothing is there (a file where a parent
 * directory should be included); NOT_A_FILE for a directory, FIFO or device,
 * which we never write, so it is someone else's (and uninstall, the
 * emergency path, must not stop at it).
 */
async function readOrNull(
  host: SystemdHostIo,
  path: string,
): Promise<string | null | typeof NOT_A_FILE> {
  try {
    return await host.readFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) return null;
    if (e instanceof BoundedReadError && e.code === "not_regular") return NOT_A_FILE;
    throw new SystemdError("io", `cannot read ${path}: ${detail(e)}`, path, { cause: e });
  }
}

async function linkOwnership(paths: BootPaths): Promise<Ownership> {
  let target: string;
  try {
    target = await Deno.readLink(paths.wantsLink);
  } catch {
    // Something that is not a symlink (EINVAL) is not ours either.
    return (await exists(paths.wantsLink)) ? "foreign" : "absent";
  }
  return target === paths.unit || target === `../${UNIT_NAME}` ? "ours" : "foreign";
}

/**
 * Reads what our paths hold. Never changes anything.
 *
 * @example
 * ```ts ignore
 * const state = await readBootState(host);
 * if (state.unit.ownership === "foreign") console.log(`${state.paths.unit} is not ours`);
 * ```
 */
export async function readBootState(host: SystemdHostIo): Promise<BootState> {
  const paths = bootPaths(host.dirs);
  const unit = await readOrNull(host, paths.unit);
  const config = await readOrNull(host, paths.config);
  const own = (
    text: string | null | typeof NOT_A_FILE,
    ours: (t: string) => boolean,
  ): { ownership: Ownership; text: string | null } =>
    text === NOT_A_FILE
      ? { ownership: "foreign", text: null }
      : { ownership: text === null ? "absent" : ours(text) ? "ours" : "foreign", text };
  return {
    paths,
    unit: own(unit, isOurUnit),
    config: own(config, isOurConfig),
    link: await linkOwnership(paths),
    systemdRunning: await isDirectory(host.runtimeDir),
  };
}

/**
 * Whether the unit and config are regular files of root's with the modes
 * install gives them: what a commit leaves besides their text. The boot run
 * applies them as root, so a file another user could change (a mode, an
 * owner, a symlink to elsewhere) is not what install wrote, whatever its
 * text. Reads only; a path that cannot be read is not.
 *
 * @example
 * ```ts ignore
 * if (!await bootFilesAsWritten(host.dirs)) console.log("install would rewrite them");
 * ```
 */
export async function bootFilesAsWritten(dirs: BootDirs): Promise<boolean> {
  const paths = bootPaths(dirs);
  for (const [path, mode] of [[paths.unit, UNIT_MODE], [paths.config, CONFIG_MODE]] as const) {
    let st: Deno.FileInfo;
    try {
      st = await Deno.lstat(path);
    } catch {
      return false;
    }
    if (!st.isFile || st.uid !== 0 || ((st.mode ?? 0) & 0o7777) !== mode) return false;
  }
  return true;
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await Deno.lstat(path)).isDirectory;
  } catch {
    return false;
  }
}

async function systemctl(host: SystemdHostIo, args: string[]): Promise<void> {
  const r = await host.runner.run("systemctl", args);
  if (r.code !== 0) {
    throw new SystemdError(
      "systemctl",
      `systemctl ${args.join(" ")} failed (exit ${r.code}): ${r.stderr.trim()}`,
    );
  }
}

/**
 * Creates the symlink with `ln`: Deno.symlink needs unscoped read and write
 * permissions (a link's target is only resolved when it is followed), which
 * the tool must not have. Without -f, ln never replaces an existing entry.
 */
async function symlink(host: SystemdHostIo, target: string, link: string): Promise<void> {
  const r = await host.runner.run("ln", ["-s", "--", target, link]);
  if (r.code !== 0) {
    throw new SystemdError("io", `cannot create ${link}: ${r.stderr.trim()}`, link);
  }
}

/**
 * Makes renames and removals in our directories durable (os/durable_file.ts):
 * a power cut right after install or uninstall must not bring back the old
 * unit. A directory that is not there (a removed `.wants`) has nothing to sync.
 */
async function syncDirs(dirs: string[]): Promise<void> {
  for (const dir of new Set(dirs)) {
    try {
      await syncDirectory(dir);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory)) throw e;
    }
  }
}

async function removeIfExists(path: string): Promise<void> {
  try {
    await Deno.remove(path);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory)) throw e;
  }
}

/** Removes a directory if it is empty; leaves it (and says nothing) otherwise. */
async function removeIfEmpty(path: string): Promise<boolean> {
  try {
    for await (const _ of Deno.readDir(path)) return false;
    await Deno.remove(path);
    return true;
  } catch {
    return false;
  }
}

/** What commit or removal did, one line per path, for the user. */
export interface BootReport {
  lines: string[];
  /** How many of our files and links were (or would be) removed. */
  removed: number;
}

/** New files written under temporary names, ready to be moved into place. */
export interface StagedBoot {
  paths: BootPaths;
  /**
   * Moves both files into place and enables the unit. If a step fails, the
   * previous files (or their absence) are put back before it throws.
   */
  commit(): Promise<BootReport>;
  /** Removes the staged files; nothing else was changed. */
  discard(): Promise<void>;
}

function refuseForeign(state: BootState): void {
  const foreign = [
    [state.unit.ownership, state.paths.unit],
    [state.config.ownership, state.paths.config],
    [state.link, state.paths.wantsLink],
  ].filter(([o]) => o === "foreign").map(([, p]) => p);
  if (foreign.length === 0) return;
  const [verb, it] = foreign.length === 1 ? ["exists", "it"] : ["exist", "them"];
  throw new SystemdError(
    "foreign_file",
    `--store-systemd: ${foreign.join(" and ")} ${verb} but kuma-tproxy did not write ${it}; ` +
      `move ${it} away or drop --store-systemd. Nothing was changed.`,
    foreign[0],
  );
}

/**
 * Checks that the unit and config can be written and writes them under
 * temporary names. Refuses files at our paths that we did not write. Throws
 * {@linkcode SystemdError} with nothing changed.
 *
 * @example
 * ```ts ignore
 * const staged = await stageBootFiles(host, { unit: renderUnit(u), config: renderStoredConfig(c) });
 * try {
 *   await applyPlans(runner, plans, { ...options, persist: async () => void await staged.commit() });
 * } finally {
 *   await staged.discard();
 * }
 * ```
 */
export async function stageBootFiles(
  host: SystemdHostIo,
  files: { unit: string; config: string },
): Promise<StagedBoot> {
  const state = await readBootState(host);
  refuseForeign(state);
  const { paths } = state;
  if (!(await isDirectory(host.dirs.unitDir))) {
    throw new SystemdError(
      "io",
      `--store-systemd: ${host.dirs.unitDir} does not exist; is systemd installed? Nothing was changed.`,
      host.dirs.unitDir,
    );
  }
  const createdConfigDir = !(await exists(host.dirs.configDir));
  const written: string[] = [];
  const discard = async () => {
    for (const p of written) await removeIfExists(p).catch(() => {});
    if (createdConfigDir) await removeIfEmpty(host.dirs.configDir);
  };
  try {
    if (createdConfigDir) await Deno.mkdir(host.dirs.configDir, { mode: DIR_MODE });
    for (
      const [path, text, mode] of [
        [paths.config, files.config, CONFIG_MODE],
        [paths.unit, files.unit, UNIT_MODE],
      ] as const
    ) {
      written.push(staged(path, "new"));
      await writeSyncedFile(staged(path, "new"), text, { mode });
    }
  } catch (e) {
    await discard();
    const path = written.at(-1) ?? host.dirs.configDir;
    throw new SystemdError(
      "io",
      `--store-systemd: cannot write ${path}: ${detail(e)}. Nothing was changed.`,
      path,
      { cause: e },
    );
  }
  return { paths, discard, commit: () => commit(host, state, discard) };
}

async function commit(
  host: SystemdHostIo,
  state: BootState,
  discard: () => Promise<void>,
): Promise<BootReport> {
  const { paths } = state;
  const tx = new StagedCommit();
  try {
    for (const path of [paths.config, paths.unit]) {
      await tx.replace(path, staged(path, "new"), staged(path, "old"));
    }
    await syncDirs([host.dirs.configDir, host.dirs.unitDir]);
    const lines = [`systemd: wrote ${paths.unit} and ${paths.config}`];
    if (state.systemdRunning) {
      await systemctl(host, ["daemon-reload"]);
      tx.onRollback(() => systemctl(host, ["daemon-reload"]));
      if (state.link !== "ours") {
        await systemctl(host, ["enable", UNIT_NAME]);
        tx.onRollback(() => systemctl(host, ["disable", UNIT_NAME]));
      }
    } else if (state.link !== "ours") {
      const l = enableLink(host.dirs);
      if (!(await exists(l.dir))) {
        await Deno.mkdir(l.dir, { mode: DIR_MODE });
        tx.onRollback(async () => void await removeIfEmpty(l.dir));
      }
      await symlink(host, l.target, l.link);
      tx.onRollback(() => Deno.remove(l.link));
      await syncDirs([l.dir, host.dirs.unitDir]);
    }
    lines.push(
      state.link === "ours"
        ? `systemd: ${UNIT_NAME} was already enabled`
        : `systemd: enabled ${UNIT_NAME} (${paths.wantsLink})`,
    );
    await tx.finish();
    return { lines, removed: 0 };
  } catch (e) {
    const failed = (await tx.rollback()).map(detail);
    await discard();
    const after = failed.length === 0
      ? "the previous unit and config were put back"
      : `putting the previous files back also failed: ${failed.join("; ")}`;
    throw new SystemdError(
      e instanceof SystemdError ? e.code : "io",
      `--store-systemd: ${detail(e)}; ${after}`,
      paths.unit,
      { cause: e },
    );
  }
}

/**
 * Disables and removes our unit and config, and only those: a file at our
 * paths that we did not write is kept and named. Empty directories we may
 * have created (the config directory, the `.wants` directory) go too.
 *
 * @example
 * ```ts ignore
 * const { lines, removed } = await removeBootFiles(host, { dryRun: true });
 * ```
 */
export async function removeBootFiles(
  host: SystemdHostIo,
  options: { dryRun: boolean },
): Promise<BootReport> {
  const state = await readBootState(host);
  const { paths } = state;
  const lines: string[] = [];
  const verb = options.dryRun ? "would remove" : "removed";
  for (
    const [what, o, path] of [
      ["unit", state.unit.ownership, paths.unit],
      ["config", state.config.ownership, paths.config],
      ["symlink", state.link, paths.wantsLink],
    ] as const
  ) {
    if (o === "foreign") {
      lines.push(`systemd: kept ${path}: kuma-tproxy did not write this ${what}`);
    }
  }
  const ours = [
    ...(state.link === "ours" ? [paths.wantsLink] : []),
    ...(state.unit.ownership === "ours" ? [paths.unit] : []),
    ...(state.config.ownership === "ours" ? [paths.config] : []),
  ];
  if (options.dryRun) {
    for (const p of ours) lines.push(`systemd: ${verb} ${p}`);
    return { lines, removed: ours.length };
  }
  try {
    if (state.systemdRunning && (state.link === "ours" || state.unit.ownership === "ours")) {
      // --now also stops it; with no ExecStop that only marks it inactive.
      await systemctl(host, ["disable", "--now", UNIT_NAME]);
    }
    for (const p of ours) {
      await removeIfExists(p);
      lines.push(`systemd: ${verb} ${p}`);
    }
    // Leftovers of an interrupted install carry only our names.
    for (const p of [paths.unit, paths.config]) {
      for (const kind of ["new", "old"] as const) await removeIfExists(staged(p, kind));
    }
    await syncDirs([paths.wantsDir, host.dirs.unitDir, host.dirs.configDir]);
    if (state.systemdRunning && ours.length > 0) await systemctl(host, ["daemon-reload"]);
  } catch (e) {
    if (e instanceof SystemdError) throw e;
    throw new SystemdError("io", `cannot remove the boot unit: ${detail(e)}`, paths.unit, {
      cause: e,
    });
  }
  const gone = [
    ...(state.link === "ours" && await removeIfEmpty(paths.wantsDir) ? [host.dirs.unitDir] : []),
    ...(state.config.ownership === "ours" && await removeIfEmpty(host.dirs.configDir)
      ? [dirname(host.dirs.configDir)]
      : []),
  ];
  await syncDirs(gone).catch(() => {});
  return { lines, removed: ours.length };
}
