/**
 * A fresh Universal VM for the README's walkthrough (scripts/demo.ts): the
 * traffic World (./world.ts), built without touching the machine's users,
 * and a private mount namespace (MountNs, ./firewalld_host.ts) in which
 * - /etc is an overlay whose upper dir is a temp dir, so useradd,
 *   /etc/kuma-tproxy and the unit of `--store-systemd` change only that copy;
 *   kuma-dp (by name, or UID/GID 5678) is taken out of the copy's passwd,
 *   group, shadow and gshadow, so the walkthrough's useradd runs as on a new
 *   VM; /etc/firewalld is hidden by a whiteout (a host without firewalld,
 *   the walkthrough's `--store-systemd` case); /etc/resolv.conf is the
 *   World's (the peer is the nameserver);
 * - /run/systemd and /run/dbus are empty tmpfs: no systemd to call, no bus
 *   of the machine to reach.
 * Commands run as root in that mount namespace and the host netns, through
 * `sh -c`, with `kuma-tproxy` (scripts/kuma-tproxy) on PATH.
 */
import { type CliResult, cliResult, REPO_ROOT } from "../integration/cli_run.ts";
import { MountNs } from "./firewalld_host.ts";
import { KUMA_DP_UID, World } from "./world.ts";

export class VmHost {
  private constructor(
    readonly world: World,
    readonly mnt: MountNs,
    /** Temp dir: the overlay's upper and work dirs, and `bin/kuma-tproxy`. */
    readonly dir: string,
  ) {}

  static async create(): Promise<VmHost> {
    const world = await World.create({ hostUsers: false, sidecar: false });
    let mnt: MountNs | null = null;
    const dir = await Deno.makeTempDir({ prefix: "ktp-vm-" });
    try {
      await Deno.chmod(dir, 0o755);
      await Deno.mkdir(`${dir}/bin`);
      await Deno.writeTextFile(
        `${dir}/bin/kuma-tproxy`,
        `#!/bin/sh\nexec '${REPO_ROOT}/scripts/kuma-tproxy' "$@"\n`,
        { mode: 0o755 },
      );
      mnt = await MountNs.create();
      await mnt.sh(`
        mkdir '${dir}/up' '${dir}/work'
        mknod '${dir}/up/firewalld' c 0 0   # overlayfs whiteout: hides /etc/firewalld
        mount -t overlay overlay -o 'lowerdir=/etc,upperdir=${dir}/up,workdir=${dir}/work' /etc
        for f in passwd group shadow gshadow; do
          [ -f /etc/$f ] || continue
          awk -F: -v f=$f '!($1 == "kuma-dp" || ((f == "passwd" || f == "group") && $3 == ${KUMA_DP_UID}))' \\
            /etc/$f > '${dir}/'$f.new
          cat '${dir}/'$f.new > /etc/$f   # keeps the file's owner and mode
          rm '${dir}/'$f.new
        done
        rm -f /etc/resolv.conf          # may be a symlink into /run (systemd-resolved)
        cp '${world.resolvConf}' /etc/resolv.conf
        mkdir -p /run/systemd /run/dbus   # a root's empty /run has neither (scripts/in-root.sh)
        mount -t tmpfs -o mode=0755 tmpfs /run/systemd
        mount -t tmpfs -o mode=0755 tmpfs /run/dbus`);
      return new VmHost(world, mnt, dir);
    } catch (e) {
      await mnt?.destroy();
      await world.destroy();
      await Deno.remove(dir, { recursive: true });
      throw e;
    }
  }

  /** A path of this VM's file system as the calling process sees it (through /proc/PID/root). */
  path(path: string): string {
    return `/proc/${this.mnt.pid}/root${path}`;
  }

  /** The argv prefix that runs a command as root in the VM (mount namespace and host netns). */
  get argv(): string[] {
    return [...this.mnt.argv, "ip", "netns", "exec", this.world.host.name];
  }

  /** Runs `command` with `sh -c` as root in the VM, with `kuma-tproxy` on PATH. */
  async sh(command: string): Promise<CliResult> {
    const argv = [...this.argv, "sh", "-c", command];
    const out = await new Deno.Command(argv[0], {
      args: argv.slice(1),
      cwd: "/",
      clearEnv: true,
      env: {
        PATH: `${this.dir}/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
        HOME: Deno.env.get("HOME") ?? "/root",
      },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    return cliResult(out);
  }

  async destroy(): Promise<void> {
    await this.world.destroy();
    await this.mnt.destroy();
    await Deno.remove(this.dir, { recursive: true }).catch(() => {});
  }
}
