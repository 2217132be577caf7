/**
 * The one way kuma-tproxy writes a file of its own (direct.xml, the boot
 * unit and its config): so that after a power cut the host has the old file
 * or the new one, whole, and no litter of ours.
 *
 * - The new content goes to a temporary name in the same directory (rename
 *   is atomic only within one file system), is flushed with fsync(2) and
 *   given its mode (whatever the umask) before it is renamed over the old.
 * - Then the directory is fsynced: a rename is a change to the directory,
 *   and until the directory reaches the disk a power cut can undo it
 *   (fsync(2): "Calling fsync() does not necessarily ensure that the entry
 *   in the directory containing the file has also reached disk. For that an
 *   explicit fsync() on a file descriptor for the directory is also
 *   needed."). The same holds for a removal.
 * - Temporary names carry a fixed prefix and suffix, so a later run can
 *   find and remove the ones a killed run left ({@link removeStaleTemps}).
 * - Several files that change together (the boot unit and its config) are
 *   written aside first and moved into place by a {@link StagedCommit},
 *   which keeps each previous file until the end and puts them back on a
 *   failure.
 *
 * @module
 */

/** How to create a file. */
export interface WriteOptions {
  /** Its mode, set after creation so that the umask does not cut bits. */
  mode: number;
  /** Its owner, when it must keep the one of the file it replaces. */
  owner?: { uid: number; gid: number };
  /** Fail if the file exists (a fresh temporary name); otherwise truncate it. */
  createNew?: boolean;
}

/** Writes `text` to `path`, flushes it to disk and sets mode (and owner). */
export async function writeSyncedFile(
  path: string,
  text: string,
  options: WriteOptions,
): Promise<void> {
  const file = await Deno.open(path, {
    write: true,
    ...(options.createNew ? { createNew: true } : { create: true, truncate: true }),
    mode: options.mode,
  });
  try {
    // write() may write part (a file system running full writes what fits, and only the next
    // write fails, ENOSPC): a short write ignored would leave the file cut short. write(2).
    let bytes = new TextEncoder().encode(text);
    while (bytes.length > 0) bytes = bytes.subarray(await file.write(bytes));
    await file.sync();
  } finally {
    file.close();
  }
  await Deno.chmod(path, options.mode);
  if (options.owner) await Deno.chown(path, options.owner.uid, options.owner.gid);
}

/** Flushes a directory's entries (renames, new and removed names) to disk. */
export async function syncDirectory(dir: string): Promise<void> {
  const file = await Deno.open(dir, { read: true });
  try {
    await file.sync();
  } finally {
    file.close();
  }
}

/**
 * A temporary name beside `path` for {@link replaceFile}:
 * `.<name>.kuma-tproxy-<8 hex>.tmp`, which {@link isTempOf} recognises.
 */
export function tempPath(path: string): string {
  return `${dirname(path)}/.${basename(path)}.kuma-tproxy-${crypto.randomUUID().slice(0, 8)}.tmp`;
}

/** Whether a directory entry's name is one of {@link tempPath}'s names for `path`. */
export function isTempOf(path: string, name: string): boolean {
  const base = basename(path).replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`^\\.${base}\\.kuma-tproxy-[0-9a-f]{8}\\.tmp$`).test(name);
}

/**
 * Replaces `path` with `text`: a temporary file, fsynced, renamed over
 * `path`, then the directory fsynced. A reader sees the old or the new file,
 * never half of one; on failure the temporary file is removed and `path`
 * is as it was.
 */
export async function replaceFile(path: string, text: string, options: WriteOptions) {
  const tmp = tempPath(path);
  try {
    await writeSyncedFile(tmp, text, { ...options, createNew: true });
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
  await syncDirectory(dirname(path));
}

/**
 * Removes `path` (nothing there is fine) and makes the removal durable.
 * Returns whether there was something to remove.
 */
export async function removeFileDurably(path: string): Promise<boolean> {
  try {
    await Deno.remove(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
  await syncDirectory(dirname(path));
  return true;
}

/**
 * Removes the temporary files of {@link replaceFile} for `path` that a
 * killed run left behind. Only safe while no other run can be writing: the
 * caller holds the run lock (src/ops/run_lock.ts). Returns the names removed.
 */
export async function removeStaleTemps(path: string): Promise<string[]> {
  const dir = dirname(path);
  const removed: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (!entry.isFile || !isTempOf(path, entry.name)) continue;
      await Deno.remove(`${dir}/${entry.name}`).catch((e) => {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      });
      removed.push(entry.name);
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return removed;
    throw e;
  }
  if (removed.length > 0) await syncDirectory(dir);
  return removed;
}

/**
 * A staged commit of files written aside (under names the caller chose,
 * with {@link writeSyncedFile}), and its rollback: {@link replace} renames
 * each over its path and keeps the previous file under a backup name (a
 * hard link: the same bytes, mode and owner) until {@link finish}. A caller
 * that changes more beside the files (a symlink, a directory, systemctl)
 * adds the undo of each change with {@link onRollback}; {@link rollback}
 * runs them all, last first. The caller syncs the directories
 * ({@link syncDirectory}) once its renames are done.
 *
 * @example
 * ```ts ignore
 * const commit = new StagedCommit();
 * try {
 *   await commit.replace(path, `${path}.new`, `${path}.old`);
 *   await syncDirectory(dirname(path));
 *   await commit.finish();
 * } catch (e) {
 *   const failures = await commit.rollback();
 * }
 * ```
 */
export class StagedCommit {
  #undo: (() => Promise<void>)[] = [];
  #backups: string[] = [];

  /** Renames `staged` over `path`, the previous file (if any) kept at `backup` for a rollback. */
  async replace(path: string, staged: string, backup: string): Promise<void> {
    if (await isThere(path)) {
      await removeIfThere(backup);
      await Deno.link(path, backup);
      this.#backups.push(backup);
      this.#undo.push(() => Deno.rename(backup, path));
    } else {
      this.#undo.push(() => removeIfThere(path));
    }
    await Deno.rename(staged, path);
  }

  /** Adds the undo of a change made beside the files. */
  onRollback(undo: () => Promise<void>): void {
    this.#undo.push(undo);
  }

  /** Undoes every change, last first, and returns the errors of the undos that failed. */
  async rollback(): Promise<unknown[]> {
    const failed: unknown[] = [];
    for (const undo of this.#undo.reverse()) await undo().catch((e) => failed.push(e));
    this.#undo = [];
    return failed;
  }

  /** Done: drops the previous files kept for a rollback. */
  async finish(): Promise<void> {
    for (const backup of this.#backups) await removeIfThere(backup);
    this.#undo = [];
  }
}

async function isThere(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

async function removeIfThere(path: string): Promise<void> {
  try {
    await Deno.remove(path);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory)) throw e;
  }
}

/** The directory part of a path (`/` for `/x`, `.` for `x`). */
export function dirname(path: string): string {
  const i = path.lastIndexOf("/");
  return i < 0 ? "." : i === 0 ? "/" : path.slice(0, i);
}

function basename(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}
