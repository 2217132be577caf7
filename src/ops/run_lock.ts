/**
 * Our own lock, so that two runs of this tool never interleave: install and
 * uninstall each read the live rules, plan from them and apply, and a second
 * run changing the rules in between turns a correct plan into a failing one
 * (two legacy installs: the loser's `-N KUMA_MESH_INBOUND` meets the chain
 * the winner just made). The xtables lock only covers one iptables command,
 * and nft takes none, so it cannot protect a read-plan-apply sequence.
 *
 * The lock is an advisory `flock(2)` on {@link LOCK_PATH}, the place and the
 * mechanism iptables itself uses for `/run/xtables.lock` (iptables
 * `xshared.h` XT_LOCK_NAME): `/run` is a root-only tmpfs, emptied at boot,
 * and the kernel drops the lock when its holder exits or is killed, so it
 * can never go stale. Like the xtables lock it is host-wide, not per network
 * namespace: runs in different namespaces wait for each other too, which
 * costs a moment and is never wrong.
 *
 * A lock on a file only works while everyone locks the same file: once the
 * file is deleted or replaced while held, the next run creates or opens
 * another one and goes straight through (issue 22 item 6). So a run also
 * locks the directory that holds it (`/run`, a mount point nobody can
 * delete), after the file, in that order, and checks after locking that
 * the path still names the file it locked (retrying otherwise). The file
 * lock stays: an operator's `flock /run/kuma-tproxy.lock CMD` holds runs
 * off, as documented.
 *
 * Waiting is bounded (waits.ts): flock(2) itself cannot time out, so a
 * waiting run polls with LOCK_NB, as iptables does for its `--wait`
 * (iptables `xshared.c` xtables_lock). When it gives up it names the
 * holder's PID, from `lslocks` (util-linux; /proc/locks is closed to Deno
 * without --allow-all).
 *
 * @module
 */
import type { OpsIo } from "./io.ts";
import { info } from "./log.ts";
import { UserError } from "./errors.ts";
import { formatSeconds, LOCK_WAIT_ENV, waitLimits } from "./waits.ts";

/** Where the lock lives on a real host (listed in scripts/permissions.txt). */
export const LOCK_PATH = "/run/kuma-tproxy.lock";

/** How often a waiting run tries again (iptables' default --wait-interval is 1 s). */
const POLL_MS = 50;

/**
 * Runs `fn` holding the lock at `io.lockPath`: exclusive for commands that
 * change rules (install, uninstall), shared for readers (status), which may
 * run side by side but see no change half-done. Waits for a holder, saying
 * so once, at most the lock wait of waits.ts; then fails naming the holder.
 *
 * @example
 * ```ts ignore
 * const code = await withRunLock(io, { exclusive: true }, () => apply());
 * ```
 */
export async function withRunLock<T>(
  io: OpsIo,
  options: { exclusive: boolean },
  fn: () => Promise<T>,
): Promise<T> {
  const wait = new Waiter(io, waitLimits(io.env).lockMs);
  const file = await lockFile(io, options.exclusive, wait);
  try {
    const dir = await openOrFail(dirname(io.lockPath), { read: true });
    try {
      await wait.lock(dir, options.exclusive, dirname(io.lockPath));
      return await fn();
    } finally {
      dir.close();
    }
  } finally {
    // Closing the file releases the flock.
    file.close();
  }
}

/** Locks the lock file, again if the path was replaced meanwhile; returns it locked. */
async function lockFile(io: OpsIo, exclusive: boolean, wait: Waiter): Promise<Deno.FsFile> {
  for (;;) {
    const file = await openOrFail(io.lockPath, {
      read: true,
      write: true,
      create: true,
      mode: 0o600,
    });
    try {
      await wait.lock(file, exclusive, io.lockPath);
      if (sameFile(await file.stat(), await statOrNull(io.lockPath))) return file;
    } catch (e) {
      file.close();
      throw e;
    }
    // Deleted or replaced while we waited: the lock that counts is on what is there now.
    file.close();
    wait.assertTimeLeft(io.lockPath);
  }
}

/** One deadline for every lock of a run, and the "waiting" message said once. */
class Waiter {
  readonly #deadline: number;
  #said = false;

  constructor(private readonly io: OpsIo, private readonly limitMs: number) {
    this.#deadline = Date.now() + limitMs;
  }

  async lock(file: Deno.FsFile, exclusive: boolean, path: string): Promise<void> {
    if (await file.tryLock(exclusive)) return;
    const holders = async () => describeHolders(await findHolders(this.io, await file.stat()));
    if (!this.#said) {
      this.#said = true;
      info(
        this.io,
        `another kuma-tproxy run holds ${this.io.lockPath}; waiting for it to finish ` +
          `(at most ${formatSeconds(this.limitMs)}${await holders()})`,
      );
    }
    while (Date.now() < this.#deadline) {
      await new Promise((ok) => setTimeout(ok, Math.min(POLL_MS, this.#deadline - Date.now())));
      if (await file.tryLock(exclusive)) return;
    }
    throw this.#timeout(path, await holders());
  }

  /** Throws the timeout error once the deadline has passed (a lock file replaced again and again). */
  assertTimeLeft(path: string): void {
    if (Date.now() >= this.#deadline) throw this.#timeout(path, "");
  }

  #timeout(path: string, holders: string): UserError {
    return new UserError(
      `the lock on ${path} was not released within ${formatSeconds(this.limitMs)}, longer ` +
        `than a run of kuma-tproxy takes${holders}; nothing was changed. If that ` +
        `process is stuck, stop it and run the command again (${LOCK_WAIT_ENV} sets the wait ` +
        "in seconds)",
    );
  }
}

async function openOrFail(path: string, options: Deno.OpenOptions): Promise<Deno.FsFile> {
  try {
    return await Deno.open(path, options);
  } catch (e) {
    throw new UserError(
      `cannot open the lock file ${path}, which keeps two runs of kuma-tproxy apart: ${
        e instanceof Error ? e.message : String(e)
      }`,
    );
  }
}

async function statOrNull(path: string): Promise<Deno.FileInfo | null> {
  try {
    return await Deno.stat(path);
  } catch {
    return null;
  }
}

function sameFile(a: Deno.FileInfo, b: Deno.FileInfo | null): boolean {
  return b !== null && a.ino === b.ino && a.dev === b.dev;
}

/** A process holding a lock on the file we wait for. */
export interface LockHolder {
  pid: number;
  command: string;
}

/** The holders of a lock on `info`'s file, from lslocks; none when lslocks cannot tell. */
async function findHolders(io: OpsIo, info: Deno.FileInfo): Promise<LockHolder[]> {
  if (info.ino === null) return [];
  try {
    const r = await io.runner.run("lslocks", [
      "--noheadings",
      "--raw",
      "--output",
      "PID,MODE,INODE,MAJ:MIN,COMMAND",
    ]);
    if (r.code !== 0) return [];
    return parseLockHolders(r.stdout, { ino: info.ino, dev: info.dev });
  } catch {
    // lslocks missing, not allowed, or before util-linux 2.37 (no INODE column,
    // e.g. Debian 11 and RHEL 8; its PATH column is ambiguous across mount
    // namespaces): the message names no PID rather than a wrong one.
    return [];
  }
}

/**
 * The holders (not the waiters, whose MODE ends in `*`) of a lock on the
 * file with this inode and device, from `lslocks --raw` lines
 * `PID MODE INODE MAJ:MIN COMMAND`.
 *
 * @example
 * ```ts
 * import { parseLockHolders } from "./run_lock.ts";
 * const out = "19373 READ* 9773059 254:0 flock\n19358 WRITE 9773059 254:0 flock\n";
 * const h = parseLockHolders(out, { ino: 9773059, dev: 65024 });
 * if (h.length !== 1 || h[0].pid !== 19358) throw new Error(JSON.stringify(h));
 * ```
 */
export function parseLockHolders(
  lslocks: string,
  file: { ino: number; dev: number },
): LockHolder[] {
  const [major, minor] = majorMinor(file.dev);
  const holders: LockHolder[] = [];
  for (const line of lslocks.split("\n")) {
    const [pid, mode, ino, dev, ...command] = line.trim().split(/\s+/);
    if (!pid || !/^\d+$/.test(pid) || mode?.endsWith("*")) continue;
    if (Number(ino) !== file.ino || dev !== `${major}:${minor}`) continue;
    holders.push({ pid: Number(pid), command: unescapeRaw(command.join(" ")) });
  }
  return holders;
}

/** glibc's major() and minor() of a st_dev (sys/sysmacros.h). */
export function majorMinor(dev: number): [number, number] {
  const d = BigInt(dev);
  const major = ((d >> 8n) & 0xfffn) | ((d >> 32n) & ~0xfffn);
  const minor = (d & 0xffn) | ((d >> 12n) & ~0xffn);
  return [Number(major), Number(minor)];
}

/** lslocks --raw writes unsafe characters as `\xHH`. */
function unescapeRaw(text: string): string {
  return text.replace(/\\x([0-9a-fA-F]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16)));
}

function describeHolders(holders: LockHolder[]): string {
  if (holders.length === 0) return "";
  const list = holders.map((h) => `PID ${h.pid} (${h.command})`).join(", ");
  return `; held by ${list}`;
}

function dirname(path: string): string {
  const i = path.lastIndexOf("/");
  return i < 0 ? "." : i === 0 ? "/" : path.slice(0, i);
}
