/**
 * Whether the stored config file itself can be trusted by the boot run:
 * root applies it, so only root may have written it. Its text is checked
 * apart (stored_config.ts `storedConfigDefect`).
 *
 * @module
 */

/** The owner install writes the file as: install needs root. */
const ROOT = 0;
/** Group and other write bits: anyone but root could then change what root applies at boot. */
const WRITABLE_BY_OTHERS = 0o022;

/**
 * Why the file at `path` must not be applied as root, or undefined when it
 * may (or does not exist: the read that follows says so). A symlink is
 * refused whatever it points at: install writes a regular file, and a link
 * lets whoever can write its target decide what the boot run applies.
 *
 * @example
 * ```ts ignore
 * const defect = await storedFileDefect("/etc/kuma-tproxy/boot.yaml");
 * if (defect) throw new Error(`/etc/kuma-tproxy/boot.yaml ${defect}`);
 * ```
 */
export async function storedFileDefect(path: string): Promise<string | undefined> {
  let st: Deno.FileInfo;
  try {
    st = await Deno.lstat(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) {
      return undefined;
    }
    return `cannot be inspected: ${e instanceof Error ? e.message : String(e)}`;
  }
  if (st.isSymlink) return "is a symbolic link, not the file install writes";
  if (!st.isFile) return "is not a regular file";
  if (st.uid !== ROOT) return `is owned by UID ${st.uid}, not root`;
  const mode = (st.mode ?? 0) & 0o7777;
  if ((mode & WRITABLE_BY_OTHERS) !== 0) {
    return `is writable by users other than root (mode ${mode.toString(8).padStart(4, "0")})`;
  }
  return undefined;
}

/**
 * Whether two paths name the same file (device and inode, symlinks
 * followed): `/etc/kuma-tproxy/./boot.yaml` is the stored config too.
 * False when either cannot be read.
 *
 * @example
 * ```ts
 * import { isSameFile } from "./stored_file.ts";
 * if (!(await isSameFile("/", "/./"))) throw new Error();
 * ```
 */
export async function isSameFile(a: string, b: string): Promise<boolean> {
  try {
    const [x, y] = await Promise.all([Deno.stat(a), Deno.stat(b)]);
    return x.ino !== null && x.ino === y.ino && x.dev === y.dev;
  } catch {
    return false;
  }
}
