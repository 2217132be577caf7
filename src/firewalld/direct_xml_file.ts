/**
 * direct.xml on disk: read it, and replace it atomically with a backup.
 *
 * @module
 */
import { MAX_HOST_FILE_BYTES, readTextFileBounded } from "../host/bounded_read.ts";
import { FirewalldError } from "./errors.ts";

/** Where firewalld keeps its permanent direct config (firewall/config `FIREWALLD_DIRECT`). */
export const DEFAULT_DIRECT_XML_PATH = "/etc/firewalld/direct.xml";

/**
 * Our backup of the previous file, next to it. firewalld's own
 * `config.direct.update` keeps `direct.xml.old`; a separate name means
 * neither overwrites the other's backup.
 */
export const BACKUP_SUFFIX = ".kuma-tproxy.bak";

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
    throw ioError(`Cannot read ${path}`, path, e);
  }
}

/** Whether the directory that holds `path` exists (firewalld installed, even if stopped). */
export async function parentExists(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(dirname(path))).isDirectory;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw ioError(`Cannot inspect ${dirname(path)}`, path, e);
  }
}

/**
 * Replaces the file at `path` with `text`: first a copy of the old file at
 * `path + BACKUP_SUFFIX`, then a temporary file in the same directory
 * (rename is only atomic within one file system) with the old mode and owner,
 * then a rename over the original. A reader sees the old or the new file,
 * never half of one. If `path` is a symlink, its target is replaced.
 */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  const target = await resolve(path);
  const old = await statOrNull(target);
  const tmp = `${dirname(target)}/.${basename(target)}.kuma-tproxy-${
    crypto.randomUUID().slice(0, 8)
  }.tmp`;
  try {
    if (old) {
      await Deno.copyFile(target, target + BACKUP_SUFFIX);
      await Deno.chmod(target + BACKUP_SUFFIX, old.mode! & 0o7777);
    }
    const mode = old ? old.mode! & 0o7777 : NEW_FILE_MODE;
    const file = await Deno.open(tmp, { write: true, createNew: true, mode });
    try {
      await file.write(new TextEncoder().encode(text));
      await file.sync();
    } finally {
      file.close();
    }
    // The umask may have cut bits from `mode` at creation.
    await Deno.chmod(tmp, mode);
    if (old && old.uid !== null && old.gid !== null) await Deno.chown(tmp, old.uid, old.gid);
    await Deno.rename(tmp, target);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw ioError(`Cannot write ${target}`, path, e);
  }
}

async function resolve(path: string): Promise<string> {
  try {
    return await Deno.realPath(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return path;
    throw ioError(`Cannot resolve ${path}`, path, e);
  }
}

async function statOrNull(path: string): Promise<Deno.FileInfo | null> {
  try {
    return await Deno.stat(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw ioError(`Cannot inspect ${path}`, path, e);
  }
}

function dirname(path: string): string {
  const i = path.lastIndexOf("/");
  return i < 0 ? "." : i === 0 ? "/" : path.slice(0, i);
}

function basename(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

function ioError(message: string, path: string, cause: unknown): FirewalldError {
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new FirewalldError("io", `${message}: ${detail}`, { path, cause });
}
