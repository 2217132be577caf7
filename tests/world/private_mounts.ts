/**
 * Some of the machine's files replaced for one command, or for a mount
 * namespace, and for nothing else: wrappers over binaries (a fault at a
 * child's exec, a trap that logs its calls) and files with other content (a
 * test's /etc/resolv.conf). The one way the tests do this; see
 * `runPrivately` for one command and `PrivateMounts.script` for a MountNs
 * (./firewalld_host.ts) that lives longer.
 *
 * - A wrapped binary's directory gets an overlay whose upper dir holds the
 *   wrappers, so a symlink there (ip6tables-nft-restore ->
 *   xtables-nft-multi) is replaced itself, never its target. The directory
 *   as it was stays reachable under `ORIG`, so `$ORIG/usr/sbin/nft` is the
 *   real nft, and the real binary's name is unchanged (xtables-nft-multi
 *   dispatches on it); that view is read-only, since a write through it would
 *   land in the machine's directory: marks go to `STATE`.
 * - A replaced file gets a bind mount of the new content, on the file the
 *   path names (through a symlink); it must exist: nothing is ever created
 *   on the machine's file system.
 * Every script first checks that it is not in the machine's mount
 * namespace, so a mistake can never mount over the real /usr or /etc.
 */
import { type CliResult, cliResult } from "../integration/cli_run.ts";

export interface MountSpec {
  /**
   * Bash bodies by absolute path of the binary they replace. Each runs with
   * `REAL` (the real binary), `ORIG` (a prefix: `$ORIG/usr/sbin/nft` is the
   * real /usr/sbin/nft, for any file of a wrapped directory) and `STATE` (a
   * writable temp dir, for marks that make a wrapper act once).
   */
  wrappers?: Record<string, string>;
  /** Bash lines every wrapper runs first, after REAL, ORIG and STATE are set. */
  prelude?: string;
  /** New content by absolute path of a file that exists. */
  files?: Record<string, string>;
}

const dirname = (path: string) => path.slice(0, path.lastIndexOf("/")) || "/";
const basename = (path: string) => path.slice(path.lastIndexOf("/") + 1);
const q = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

export class PrivateMounts {
  private constructor(
    /** Temp dir: the overlays' dirs (`orig`, `up`, `work`), `state` and the files' content. */
    readonly dir: string,
    private readonly lines: string[],
  ) {}

  static async create(spec: MountSpec): Promise<PrivateMounts> {
    const dir = await Deno.makeTempDir({ prefix: "ktp-mounts-" });
    try {
      // The test users (verify's probes, the stand-in) may run a wrapper.
      await Deno.chmod(dir, 0o755);
      await Deno.mkdir(`${dir}/state`, { mode: 0o777 });
      await Deno.chmod(`${dir}/state`, 0o777);
      const lines: string[] = [];
      const wrappers = Object.entries(spec.wrappers ?? {});
      for (const d of new Set(wrappers.map(([path]) => dirname(path)))) {
        for (const sub of ["orig", "up", "work"]) {
          await Deno.mkdir(`${dir}/${sub}${d}`, { recursive: true });
        }
        lines.push(
          // Read-only: a write through it would land in the machine's directory.
          `mount --bind ${q(d)} ${q(`${dir}/orig${d}`)}`,
          `mount -o remount,bind,ro ${q(`${dir}/orig${d}`)}`,
          `mount -t overlay overlay -o ${
            q(`lowerdir=${d},upperdir=${dir}/up${d},workdir=${dir}/work${d}`)
          } ${q(d)}`,
        );
      }
      for (const [path, body] of wrappers) {
        if (!path.startsWith("/")) throw new Error(`wrapper path not absolute: ${path}`);
        await Deno.writeTextFile(
          `${dir}/up${path}`,
          `#!/bin/bash\nREAL=${q(`${dir}/orig${path}`)}\nORIG=${q(`${dir}/orig`)}\n` +
            `STATE=${q(`${dir}/state`)}\n${spec.prelude ?? ""}\n${body}\n`,
          { mode: 0o755 },
        );
        await Deno.chmod(`${dir}/up${path}`, 0o755);
      }
      for (const [i, [path, text]] of Object.entries(spec.files ?? {}).entries()) {
        const file = `${dir}/file${i}-${basename(path)}`;
        await Deno.writeTextFile(file, text, { mode: 0o644 });
        await Deno.chmod(file, 0o644);
        lines.push(
          `target=$(readlink -e ${q(path)}) || { echo ${
            q(`${path} does not exist`)
          } >&2; exit 98; }`,
          `mount --bind ${q(file)} "$target"`,
        );
      }
      return new PrivateMounts(dir, lines);
    } catch (e) {
      await Deno.remove(dir, { recursive: true });
      throw e;
    }
  }

  /**
   * The shell lines that mount everything, for `sh -e` in a private mount
   * namespace; they exit 99 in the machine's own.
   */
  script(machineNs: string): string {
    return [`[ "$(readlink /proc/self/ns/mnt)" != ${q(machineNs)} ] || exit 99`, ...this.lines]
      .join("\n");
  }

  async destroy(): Promise<void> {
    await Deno.remove(this.dir, { recursive: true }).catch(() => {});
  }
}

/**
 * Runs `argv` in a new private mount namespace with `spec` mounted, inside
 * network namespace `netns` if given, with exactly `env` (default: a
 * standard PATH and HOME). Everything is gone when the command ends.
 */
export async function runPrivately(
  argv: string[],
  spec: MountSpec,
  options: { netns?: string; env?: Record<string, string>; cwd?: string } = {},
): Promise<CliResult> {
  const mounts = await PrivateMounts.create(spec);
  try {
    const own = await Deno.readLink("/proc/self/ns/mnt");
    const exec = options.netns === undefined
      ? `exec "$@"`
      : `exec ip netns exec ${q(options.netns)} "$@"`;
    const out = await new Deno.Command("unshare", {
      args: [
        ...["-m", "--propagation", "private", "sh", "-ec"],
        `${mounts.script(own)}\n${exec}`,
        "sh",
        ...argv,
      ],
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
      clearEnv: true,
      env: options.env ??
        { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", HOME: Deno.env.get("HOME") ?? "/root" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    return cliResult(out);
  } finally {
    await mounts.destroy();
  }
}
