/**
 * A host without firewalld where the real CLI can store the rules for boot
 * with systemd, built from the traffic World (./world.ts) and a private mount
 * namespace (MountNs, ./firewalld_host.ts) in which
 * - /etc is an overlay whose upper dir is a temp dir, so /etc/kuma-tproxy can
 *   come and go without the machine's /etc ever changing, and /etc/firewalld
 *   is hidden by a whiteout (no firewalld);
 * - /etc/systemd/system is a tmpfs holding a copy of the machine's units plus
 *   foreign units with names like ours (kuma-tproxy-foo.service,
 *   kuma-tproxy.service.d/override.conf);
 * - /run/systemd and /run/dbus are empty tmpfs: systemd does not run there,
 *   and no bus of the machine can be reached;
 * - /usr/bin/systemctl (and /bin/systemctl through the /bin link) is a trap
 *   (./private_mounts.ts) that logs its arguments and fails, so a test sees every call that should
 *   never happen. The real binary stays reachable at `realSystemctl`, for
 *   offline `--root` runs on temp dirs.
 */
import {
  type CliResult,
  cliResult,
  KUMA_TPROXY,
  type LostStdout,
  REPO_ROOT,
  stdoutTo,
} from "../integration/cli_run.ts";
import { MountNs } from "./firewalld_host.ts";
import { PrivateMounts } from "./private_mounts.ts";
import { World } from "./world.ts";

/** The PATH systemd gives services (systemd.exec(5), "Environment variables in spawned processes"). */
export const SYSTEMD_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin";

/** Foreign files in the unit directory, by path relative to it. */
export const FOREIGN_UNITS: Record<string, string> = {
  "kuma-tproxy-foo.service":
    "[Unit]\nDescription=an admin's unit\n\n[Service]\nExecStart=/bin/true\n",
  "kuma-tproxy.service.d/override.conf": "[Service]\nEnvironment=ADMIN=1\n",
};

export class BootHost {
  private constructor(
    readonly world: World,
    readonly mnt: MountNs,
    /** Temp dir: overlay upper and work dirs, the systemctl trap's log. */
    readonly dir: string,
    /** The systemctl trap (./private_mounts.ts). */
    private readonly trap: PrivateMounts,
  ) {}

  static async create(): Promise<BootHost> {
    const world = await World.create();
    let mnt: MountNs | null = null;
    let trap: PrivateMounts | null = null;
    const dir = await Deno.makeTempDir({ prefix: "ktp-boot-" });
    try {
      mnt = await MountNs.create();
      trap = await PrivateMounts.create({
        wrappers: { "/usr/bin/systemctl": `echo "$*" >> '${dir}/systemctl.log'\nexit 1` },
      });
      await Deno.copyFile("/usr/bin/systemctl", `${dir}/systemctl.real`);
      await Deno.chmod(`${dir}/systemctl.real`, 0o755);
      await mnt.sh(`
        mkdir '${dir}/up' '${dir}/work' '${dir}/units'
        mknod '${dir}/up/firewalld' c 0 0   # overlayfs whiteout: hides /etc/firewalld
        cp -a /etc/systemd/system/. '${dir}/units/'`);
      // Into the temp copy, never through the namespace: the copy goes onto the tmpfs below.
      for (const [path, text] of Object.entries(FOREIGN_UNITS)) {
        const parent = path.slice(0, Math.max(0, path.lastIndexOf("/")));
        if (parent) await Deno.mkdir(`${dir}/units/${parent}`, { recursive: true });
        await Deno.writeTextFile(`${dir}/units/${path}`, text);
      }
      await mnt.sh(`
        mount -t overlay overlay -o 'lowerdir=/etc,upperdir=${dir}/up,workdir=${dir}/work' /etc
        mount -t tmpfs -o mode=0755 tmpfs /etc/systemd/system
        cp -a '${dir}/units/.' /etc/systemd/system/
        mkdir -p /run/systemd /run/dbus   # a root's empty /run has neither (scripts/in-root.sh)
        mount -t tmpfs -o mode=0755 tmpfs /run/systemd
        mount -t tmpfs -o mode=0755 tmpfs /run/dbus`);
      await mnt.sh(trap.script(await Deno.readLink("/proc/self/ns/mnt")));
      return new BootHost(world, mnt, dir, trap);
    } catch (e) {
      await mnt?.destroy();
      await trap?.destroy();
      await world.destroy();
      await Deno.remove(dir, { recursive: true });
      throw e;
    }
  }

  /** A path of this host's file system as the test process sees it (through /proc/PID/root). */
  path(path: string): string {
    return `/proc/${this.mnt.pid}/root${path}`;
  }

  /** The real systemctl, for `--root` runs only. */
  get realSystemctl(): string {
    return `${this.dir}/systemctl.real`;
  }

  /** Arguments of every systemctl call so far (the trap's log). */
  async systemctlCalls(): Promise<string[]> {
    try {
      return (await Deno.readTextFile(`${this.dir}/systemctl.log`)).split("\n").filter((l) => l);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return [];
      throw e;
    }
  }

  /**
   * Runs `argv` in the mount namespace and the host netns, with exactly `env`
   * and `cwd`.
   */
  async run(
    argv: string[],
    options: { env?: Record<string, string>; cwd?: string; netns?: boolean } = {},
  ): Promise<CliResult> {
    const full = [
      ...this.mnt.argv,
      ...(options.netns === false ? [] : ["ip", "netns", "exec", this.world.host.name]),
      ...argv,
    ];
    const out = await new Deno.Command(full[0], {
      args: full.slice(1),
      cwd: options.cwd ?? REPO_ROOT,
      clearEnv: true,
      env: options.env ?? {},
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    return cliResult(out);
  }

  /**
   * `kuma-tproxy ...args` with PATH, HOME and the World's resolv.conf: as root,
   * or as `uid` (via setpriv; the repo-local Deno cache is readable by any user).
   */
  cli(args: string[], options: { uid?: number; stdout?: LostStdout } = {}): Promise<CliResult> {
    const asUser = options.uid === undefined
      ? []
      : ["setpriv", `--reuid=${options.uid}`, `--regid=${options.uid}`, "--clear-groups", "--"];
    const lost = options.stdout ? stdoutTo(options.stdout) : [];
    return this.run([...lost, ...asUser, KUMA_TPROXY, ...args], {
      env: {
        PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        HOME: Deno.env.get("HOME") ?? "/root",
        ...this.world.toolEnv(),
      },
    });
  }

  async destroy(): Promise<void> {
    await this.mnt.destroy();
    await this.trap.destroy();
    await this.world.destroy();
    await Deno.remove(this.dir, { recursive: true });
  }
}

/** Creates a host, runs `fn`, and always destroys the host. */
export async function withBootHost<T>(fn: (host: BootHost) => Promise<T>): Promise<T> {
  const host = await BootHost.create();
  try {
    return await fn(host);
  } finally {
    await host.destroy();
  }
}
