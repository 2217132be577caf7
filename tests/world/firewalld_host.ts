/**
 * A host as the real CLI sees it in production, built from the traffic
 * World (./world.ts) and a real firewalld (./firewalld.ts) running in the
 * World's host namespace. The CLI has no options for firewalld's paths: it
 * always uses /etc/firewalld and the system bus socket. So it runs in a
 * private mount namespace where
 * - /etc/firewalld is a bind mount of the FirewalldWorld's config dir (the
 *   same files firewalld reads through `--system-config`), and
 * - a tmpfs covers /run/dbus, with the private bus socket bind-mounted at
 *   /run/dbus/system_bus_socket (dbus-next's default /var/run path reaches
 *   it through Debian's /var/run -> /run link).
 * The test process itself stays outside that mount namespace and talks to
 * firewalld only through the private bus's own path, never the real one.
 *
 * /etc is an overlay whose upper dir is a temp dir, and /etc/systemd/system
 * and /run/systemd are empty tmpfs (no boot unit, no running systemd):
 * install may write or remove kuma-tproxy.service and /etc/kuma-tproxy.
 *
 * `installed: false` makes a host without firewalld: the overlay's upper dir
 * holds a whiteout for `firewalld` (so /etc/firewalld does not exist in the
 * namespace), and /run/dbus stays empty.
 */
import { type CliResult, cliResult, KUMA_TPROXY, REPO_ROOT } from "../integration/cli_run.ts";
import { firewalldState } from "../../src/firewalld/persist.ts";
import { FirewalldWorld } from "./firewalld.ts";
import { World } from "./world.ts";

export interface FirewalldHostOptions {
  /** Sets RFC3964_IPv4 in firewalld.conf; stock (yes) when omitted. */
  rfc3964Ipv4?: boolean;
  /** Initial direct.xml content; none when omitted. */
  directXml?: string;
  /** false: no /etc/firewalld and nothing on the bus. Default true. */
  installed?: boolean;
  /** FirewallBackend in firewalld.conf; stock (nftables) when omitted. */
  firewallBackend?: "nftables" | "iptables";
}

const decoder = new TextDecoder();

/**
 * An empty unit directory and no systemd runtime: install may write or
 * remove the boot unit (src/systemd), never on the machine's own /etc, and
 * never through the machine's systemctl.
 */
const PRIVATE_SYSTEMD = [
  "mount -t tmpfs -o mode=0755 tmpfs /etc/systemd/system",
  "mkdir -p /run/systemd",
  "mount -t tmpfs -o mode=0755 tmpfs /run/systemd",
].join("\n");

/** A process parked in a private mount namespace (`unshare -m --propagation private`), entered with nsenter. */
export class MountNs {
  private constructor(private readonly child: Deno.ChildProcess) {}

  get pid(): number {
    return this.child.pid;
  }

  /**
   * The argv prefix that runs a command in this mount namespace. Entering a
   * mount namespace resets the root and the working directory to the
   * namespace's root (setns(2)), which inside a chroot (the test matrix's
   * Debian roots, docs/testing.md#t7) is the machine's: `-r` and `-w` take
   * the parked process's instead, its root and `/` (create()).
   */
  get argv(): string[] {
    return ["nsenter", "-t", String(this.pid), "-m", "-r", "-w"];
  }

  /**
   * Starts the namespace and waits until it really is a new one: mounting
   * through nsenter before unshare() ran would mount on the machine itself.
   */
  static async create(): Promise<MountNs> {
    const child = new Deno.Command("unshare", {
      args: ["-m", "--propagation", "private", "sleep", "infinity"],
      cwd: "/",
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    const ns = new MountNs(child);
    const own = await Deno.readLink("/proc/self/ns/mnt");
    for (let i = 0; i < 100; i++) {
      const theirs = await Deno.readLink(`/proc/${child.pid}/ns/mnt`).catch(() => own);
      if (theirs !== own) return ns;
      await new Promise((ok) => setTimeout(ok, 20));
    }
    await ns.destroy();
    throw new Error("unshare -m did not create a mount namespace");
  }

  /**
   * Runs a shell script in the namespace; throws with its stderr on failure.
   * The script first checks again that it is not in the machine's mount
   * namespace, so a mistake can never mount over the real /etc.
   */
  async sh(script: string): Promise<string> {
    const own = await Deno.readLink("/proc/self/ns/mnt");
    const out = await new Deno.Command(this.argv[0], {
      args: [
        ...this.argv.slice(1),
        "sh",
        "-ec",
        `[ "$(readlink /proc/self/ns/mnt)" != '${own}' ] || exit 99\n${script}`,
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (out.code !== 0) {
      throw new Error(`mount namespace script exited ${out.code}: ${decoder.decode(out.stderr)}`);
    }
    return decoder.decode(out.stdout);
  }

  /** Kills the parked process; the namespace and its mounts go with it. */
  async destroy(): Promise<void> {
    try {
      this.child.kill("SIGKILL");
    } catch { /* already gone */ }
    await this.child.status;
  }
}

export class FirewalldHost {
  private constructor(
    readonly world: World,
    /** The firewalld of this host; null when it is not installed. */
    readonly fw: FirewalldWorld | null,
    readonly mnt: MountNs,
    /** Temp dir for the overlay over /etc. */
    private readonly overlayDir: string | null,
  ) {}

  /** A traffic World whose host namespace runs firewalld (not started yet), and the mount namespace for the CLI. */
  static async create(options: FirewalldHostOptions = {}): Promise<FirewalldHost> {
    const world = await World.create();
    let fw: FirewalldWorld | null = null;
    let mnt: MountNs | null = null;
    let overlayDir: string | null = null;
    try {
      mnt = await MountNs.create();
      // /etc is always an overlay with a temp upper dir: install --store-systemd
      // creates /etc/kuma-tproxy, which must never appear on the machine.
      overlayDir = await Deno.makeTempDir({ prefix: "ktp-etc-" });
      const whiteout = options.installed === false
        ? `mknod '${overlayDir}/up/firewalld' c 0 0   # overlayfs whiteout: hides /etc/firewalld`
        : "";
      await mnt.sh(`
          mkdir '${overlayDir}/up' '${overlayDir}/work'
          ${whiteout}
          mount -t overlay overlay -o 'lowerdir=/etc,upperdir=${overlayDir}/up,workdir=${overlayDir}/work' /etc
          mkdir -p /run/dbus   # a root's empty /run has none (scripts/in-root.sh)
          mount -t tmpfs -o mode=0755 tmpfs /run/dbus
          ${PRIVATE_SYSTEMD}`);
      if (options.installed !== false) {
        fw = await FirewalldWorld.create({
          ns: world.host,
          rfc3964Ipv4: options.rfc3964Ipv4,
          directXml: options.directXml,
          firewallBackend: options.firewallBackend,
        });
        await mnt.sh(`
          mount --bind '${fw.configDir}' /etc/firewalld
          touch /run/dbus/system_bus_socket
          mount --bind '${fw.dir}/bus' /run/dbus/system_bus_socket`);
      }
      return new FirewalldHost(world, fw, mnt, overlayDir);
    } catch (e) {
      await mnt?.destroy();
      await fw?.cleanup();
      await world.destroy();
      if (overlayDir) await Deno.remove(overlayDir, { recursive: true });
      throw e;
    }
  }

  /** The firewalld of this host; throws for a host without one. */
  get firewalld(): FirewalldWorld {
    if (!this.fw) throw new Error("this host has no firewalld");
    return this.fw;
  }

  /** The argv prefix that runs a command as the CLI runs: in the mount namespace and the host netns. */
  get argv(): string[] {
    return [...this.mnt.argv, "ip", "netns", "exec", this.world.host.name];
  }

  /**
   * Runs `kuma-tproxy ...args` (or `command ...args`) as root inside the
   * host, with only PATH, HOME, the World's resolv.conf and `env`.
   */
  async cli(
    args: string[],
    options: { env?: Record<string, string>; command?: string[] } = {},
  ): Promise<CliResult> {
    return cliResult(await this.spawnCli(args, options).output());
  }

  /** Like {@link cli}, but returns the running process, for a test that acts while it runs. */
  spawnCli(
    args: string[],
    options: { env?: Record<string, string>; command?: string[] } = {},
  ): Deno.ChildProcess {
    const argv = [...this.argv, ...(options.command ?? [KUMA_TPROXY]), ...args];
    return new Deno.Command(argv[0], {
      args: argv.slice(1),
      cwd: REPO_ROOT,
      clearEnv: true,
      env: {
        PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        HOME: Deno.env.get("HOME") ?? "/root",
        ...this.world.toolEnv(),
        ...options.env,
      },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  }

  /** Runs a command inside the host (mount namespace and netns) and returns its result. */
  async inside(cmd: string, args: string[]): Promise<CliResult> {
    const argv = [...this.argv, cmd, ...args];
    const out = await new Deno.Command(argv[0], {
      args: argv.slice(1),
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    return cliResult(out);
  }

  /** direct.xml's text, or null when it does not exist. */
  async directXml(): Promise<string | null> {
    try {
      return await Deno.readTextFile(this.firewalld.directXmlPath);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return null;
      throw e;
    }
  }

  /** Stops firewalld and every helper, leaves the mount namespace, deletes namespaces and temp dirs. */
  async destroy(): Promise<void> {
    await this.mnt.destroy();
    await this.fw?.cleanup();
    await this.world.destroy();
    if (this.overlayDir) await Deno.remove(this.overlayDir, { recursive: true });
  }
}

/** Creates a host, runs `fn`, and always destroys the host. */
export async function withFirewalldHost<T>(
  options: FirewalldHostOptions,
  fn: (host: FirewalldHost) => Promise<T>,
): Promise<T> {
  const host = await FirewalldHost.create(options);
  try {
    return await fn(host);
  } finally {
    await host.destroy();
  }
}

/**
 * Every table of both families (nft, the default backend) in the host,
 * without the lines that change by themselves: header comments and packet
 * counters. Two equal results mean the kernel's rules did not change.
 */
export async function netfilter(h: FirewalldHost): Promise<string> {
  let text = "";
  for (const cmd of ["iptables-save", "ip6tables-save"]) {
    text += (await h.world.host.exec(cmd, [])).split("\n")
      .filter((l) => !l.startsWith("#"))
      .map((l) => l.replace(/\[\d+:\d+\]/, ""))
      .join("\n");
  }
  return text;
}

/** How many of our entries sit in the permanent config, the runtime config and direct.xml. */
export async function ourCounts(fw: FirewalldWorld) {
  const bus = fw.connect();
  try {
    const s = await firewalldState(
      { bus: fw.running ? bus : undefined },
      { directXmlPath: fw.directXmlPath },
    );
    return {
      permanent: s.permanent?.length ?? null,
      runtime: s.runtime?.length ?? null,
      directXml: s.directXml?.length ?? null,
    };
  } finally {
    bus.close();
  }
}
