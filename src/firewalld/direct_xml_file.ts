/**
 * direct.xml on disk: read it, and replace it atomically with a backup.
 *
 * @module
 */
import { MAX_HOST_FILE_BYTES, readTextFileBounded } from "../os/bounded_read.ts";
import {
  dirname,
  removeFileDurably,
  removeStaleTemps,
  replaceFile,
  tempPath,
} from "../os/durable_file.ts";
import { FirewalldError } from "./errors.ts";

/** Where firewalld keeps its permanent direct config (firewall/config `FIREWALLD_DIRECT`). */
export const DEFAULT_DIRECT_XML_PATH = "/etc/firewalld/direct.xml";

/**
 * The backup that earlier versions left next to direct.xml (holding our
 * rules). No backup is written any more: the replacement is atomic, so the
 * file is always the old or the new one, and firewalld keeps its own
 * `direct.xml.old` for its D-Bus updates. A leftover one is removed whenever
 * direct.xml is written or removed.
 */
export const OLD_BACKUP_SUFFIX = ".kuma-tproxy.bak";

/**
 * Mode of a direct.xml we create: firewalld writes the file with Python's
 * `io.open(..., "wt")`, i.e. 0666 minus the usual umask 022.
 */
export const NEW_FILE_MODE = 0o644;

/** Reads direct.xml; null if it does not exist. */
export async function readDirectXmlFile(path: string): Promise<string | null> {
  try {
    return await readTextFileBounded(path, { maxBytes: MAX_HOST_FILE_BYTES });
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw ioError(`cannot read ${path}`, path, e);
  }
}

/** Whether the directory that holds `path` exists (firewalld installed, even if stopped). */
export async function parentExists(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(dirname(path))).isDirectory;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw ioError(`cannot inspect ${dirname(path)}`, path, e);
  }
}

/**
 * Checks, changing nothing, that {@link writeFileAtomic} can replace `path`:
 * it is not a symbolic link (see {@link refuseSymlink}) nor anything but a
 * regular file, it can be opened for writing (an immutable or append-only
 * file, a read-only mount or missing permissions fail here), and a new file
 * can be created beside it (the temporary file that is renamed over it).
 * Run it before the kernel changes, so that a store that cannot be written
 * never gets as far as applying rules.
 */
export async function assertReplaceable(path: string): Promise<void> {
  const info = await assertNotSymlink(path);
  if (info && !info.isFile) {
    throw new FirewalldError("io", `${path} is not a regular file; nothing was changed`, { path });
  }
  try {
    if (info) (await Deno.open(path, { write: true })).close();
    const probe = tempPath(path);
    (await Deno.open(probe, { write: true, createNew: true, mode: 0o600 })).close();
    await Deno.remove(probe);
  } catch (e) {
    const detail = e instanceof Error ? e.message : String(e);
    throw new FirewalldError(
      "io",
      `cannot write ${path} (checked before changing anything): ${detail}. Nothing was changed.`,
      { path, cause: e },
    );
  }
}

/**
 * Throws `symlink` if `path` is a symbolic link (see {@link refuseSymlink});
 * returns what lstat found, null for no file. Needs no write access, so a
 * non-root dry run can check it too.
 */
export async function assertNotSymlink(path: string): Promise<Deno.FileInfo | null> {
  const info = await lstatOrNull(path);
  if (info?.isSymlink) await refuseSymlink(path);
  return info;
}

/**
 * Refuses a symbolic link at `path`, naming it and its target. Replacing
 * the link would break the admin's setup (whatever else points at the
 * target keeps the old content), and writing through it would write outside
 * firewalld's config directory, which the tool may not and should not do.
 */
async function refuseSymlink(path: string): Promise<never> {
  const target = await Deno.readLink(path).catch(() => "an unreadable target");
  throw new FirewalldError(
    "symlink",
    `${path} is a symbolic link to ${target}; kuma-tproxy neither writes through it nor replaces ` +
      `it. Make ${path} a regular file (for example copy ${target} over the link), then run ` +
      "the command again. Nothing was changed.",
    { path },
  );
}

/**
 * Replaces the file at `path` with `text`, durably (os/durable_file.ts:
 * temporary file with the old mode and owner, fsync, rename, fsync of the
 * directory). A reader sees the old or the new file, never half of one. A
 * symbolic link is refused. Temporary files a killed run left, and a
 * leftover {@link OLD_BACKUP_SUFFIX} file of an earlier version, are removed.
 */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  const old = await assertNotSymlink(path);
  try {
    await replaceFile(path, text, {
      mode: old ? old.mode! & 0o7777 : NEW_FILE_MODE,
      ...(old && old.uid !== null && old.gid !== null
        ? { owner: { uid: old.uid, gid: old.gid } }
        : {}),
    });
  } catch (e) {
    throw ioError(`cannot write ${path}`, path, e);
  }
  await removeLeftovers(path);
}

/**
 * Removes direct.xml (it held nothing but an empty `<direct>`: firewalld
 * reads a missing direct.xml as an empty direct config, firewall/core/io/direct.py)
 * and a leftover backup of an earlier version. A symbolic link is refused.
 */
export async function removeDirectXmlFile(path: string): Promise<void> {
  await assertNotSymlink(path);
  try {
    await removeFileDurably(path);
  } catch (e) {
    throw ioError(`cannot remove ${path}`, path, e);
  }
  await removeLeftovers(path);
}

/** Our temporary files of a killed run, and the backup of an earlier version. */
async function removeLeftovers(path: string): Promise<void> {
  try {
    await removeStaleTemps(path);
    await removeFileDurably(path + OLD_BACKUP_SUFFIX);
  } catch (e) {
    throw ioError(`cannot remove a leftover file beside ${path}`, path, e);
  }
}

async function lstatOrNull(path: string): Promise<Deno.FileInfo | null> {
  try {
    return await Deno.lstat(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw ioError(`cannot inspect ${path}`, path, e);
  }
}

function ioError(message: string, path: string, cause: unknown): FirewalldError {
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new FirewalldError("io", `${message}: ${detail}`, { path, cause });
}
