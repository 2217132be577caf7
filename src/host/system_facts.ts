/**
 * The real HostFacts: reads resolv.conf, /etc/passwd (then NSS through
 * `getent`), and interface data from the kernel.
 */
import type { Runner } from "../os/runner.ts";
import { MAX_HOST_FILE_BYTES, MAX_INPUT_BYTES, readTextFileBounded } from "../os/bounded_read.ts";
import type { HostFacts, Ipv6State, UserEntry } from "./facts.ts";
import { parseLoopback, parseNameservers, parsePasswd } from "./parse.ts";

export class SystemFacts implements HostFacts {
  /** The interface does not change during a run; install asks twice (plan, ::6 address). */
  private loopback?: Promise<string>;
  /** Real files by command name: detection and the plan ask for the same names. */
  private readonly realFiles = new Map<string, string | undefined>();

  constructor(
    private readonly runner: Runner,
    private readonly passwdPath = "/etc/passwd",
  ) {}

  async nameservers(resolvConfPath: string): Promise<string[]> {
    return parseNameservers(
      await readTextFileBounded(resolvConfPath, { maxBytes: MAX_INPUT_BYTES }),
    );
  }

  async lookupUser(nameOrUid: string): Promise<UserEntry | undefined> {
    let entries: UserEntry[] = [];
    try {
      // Lossy: a GECOS field may be Latin-1, and only names and UIDs are used.
      const text = await readTextFileBounded(this.passwdPath, {
        maxBytes: MAX_HOST_FILE_BYTES,
        lossy: true,
      });
      entries = parsePasswd(text);
    } catch {
      // No readable /etc/passwd (or one past the limit): NSS below may still know the user.
    }
    // kumactl looks a value up as a UID first, then as a name.
    const asUid = /^\d+$/.test(nameOrUid) ? Number(nameOrUid) : undefined;
    const local = entries.find((e) => e.uid === asUid) ?? entries.find((e) => e.name === nameOrUid);
    if (local) return local;
    // kumactl is built without cgo, so it never sees LDAP/SSSD users; getent asks NSS.
    try {
      const r = await this.runner.run("getent", ["passwd", nameOrUid]);
      // getent reads any key strtoul takes whole as a UID, wrapped to 32 bits
      // (`+0`, ` 0`, `-4294967295` and 4294967296 are all root): only an
      // answer for the very UID or name asked for counts, as in kumactl.
      const entry = r.code === 0 ? parsePasswd(r.stdout)[0] : undefined;
      if (entry && (asUid !== undefined ? entry.uid === asUid : entry.name === nameOrUid)) {
        return entry;
      }
    } catch {
      // getent missing: only /etc/passwd counts.
    }
    return undefined;
  }

  loopbackInterface(): Promise<string> {
    return this.loopback ??= this.findLoopback();
  }

  private async findLoopback(): Promise<string> {
    // kumactl takes the first interface with the loopback flag. `ip -o link`
    // shows the flags; /sys/class/net would too, but Deno refuses /sys reads
    // without --allow-all (since 1.43), and the binary runs with least privilege.
    try {
      const r = await this.runner.run("ip", ["-o", "link", "show"]);
      if (r.code === 0) return parseLoopback(r.stdout) ?? "lo";
    } catch {
      // No `ip`: fall through to the conventional name.
    }
    return "lo";
  }

  realExecutable(cmd: string): Promise<string | undefined> {
    let real = this.realFiles.get(cmd);
    if (!this.realFiles.has(cmd)) this.realFiles.set(cmd, real = findRealFile(cmd));
    return Promise.resolve(real);
  }

  hasAddress(iface: string, address: string): Promise<boolean> {
    // getifaddrs(3), like `ip addr show`: every address of every interface, no command needed.
    return Promise.resolve(
      Deno.networkInterfaces().some((i) => i.name === iface && i.address === address),
    );
  }

  ipv6(): Promise<Ipv6State> {
    // The kernel's IPv6 switch, as the addresses show it: `::1` is on the
    // loopback interface whenever IPv6 is on (systemd brings `lo` up in PID 1,
    // before any unit) and gone when `disable_ipv6` is set. kumactl asks for
    // a non-loopback address instead (HasLocalIPv6), which no interface has
    // before the network is up. /proc/sys is out of reach: Deno refuses /proc
    // reads without --allow-all.
    const v6 = Deno.networkInterfaces().some((i) => i.family === "IPv6");
    return Promise.resolve(v6 ? "available" : "disabled");
  }
}

/**
 * The real file `cmd` runs, as execvp finds it: a name with a slash is a
 * path; a bare one is looked up in PATH, in order. Synchronous on purpose:
 * detection asks a dozen names, each a few `realpath` and `stat` calls
 * that miss in every PATH directory before the right one, and one async
 * round trip per call cost more than the calls (about 10 ms against 5 ms
 * on a 13-directory PATH, measured); run at once, they finish while the
 * commands started before them still run.
 */
function findRealFile(cmd: string): string | undefined {
  const dirs = cmd.includes("/") ? [""] : (Deno.env.get("PATH") ?? "").split(":");
  for (const dir of dirs) {
    const path = cmd.includes("/") ? cmd : `${dir === "" ? "." : dir}/${cmd}`;
    try {
      const real = Deno.realPathSync(path);
      const info = Deno.statSync(real);
      if (info.isFile && ((info.mode ?? 0) & 0o111) !== 0) return real;
    } catch {
      // Not there (or not readable): try the next directory.
    }
  }
  return undefined;
}
