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
 * @module
 */
import type { CliIo } from "./io.ts";
import { info } from "./log.ts";
import { UserError } from "./errors.ts";

/** Where the lock lives on a real host (listed in scripts/permissions.txt). */
export const LOCK_PATH = "/run/kuma-tproxy.lock";

/**
 * Runs `fn` holding the lock at `io.lockPath`: exclusive for commands that
 * change rules (install, uninstall), shared for readers (status), which may
 * run side by side but see no change half-done. Waits for a holder, saying
 * so once.
 *
 * @example
 * ```ts ignore
 * const code = await withRunLock(io, { exclusive: true }, () => apply());
 * ```
 */
export async function withRunLock<T>(
  io: CliIo,
  options: { exclusive: boolean },
  fn: () => Promise<T>,
): Promise<T> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(io.lockPath, { read: true, write: true, create: true, mode: 0o600 });
  } catch (e) {
    throw new UserError(
      `cannot open the lock file ${io.lockPath}, which keeps two runs of kuma-tproxy apart: ${
        e instanceof Error ? e.message : String(e)
      }`,
    );
  }
  try {
    if (!(await file.tryLock(options.exclusive))) {
      info(io, `another kuma-tproxy run holds ${io.lockPath}; waiting for it to finish`);
      await file.lock(options.exclusive);
    }
    return await fn();
  } finally {
    // Closing the file releases the flock.
    file.close();
  }
}
