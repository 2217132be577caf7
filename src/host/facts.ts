/**
/**
 * Facts about the host (users, resolv.conf, interfaces, IPv6), behind one
 * small interface so that unit tests can hand in fixed answers. The CLI turns
 * them into the builders' `BuildFacts` (src/rules/facts.ts).
 * `system_facts.ts` is the real implementation.
 *
 * @module
 */

export interface UserEntry {
  name: string;
  uid: number;
}

export interface HostFacts {
  /** Nameserver addresses from a resolv.conf, in file order. Throws if the file cannot be read. */
  nameservers(resolvConfPath: string): Promise<string[]>;
  /** Looks a user up by UID or name, through /etc/passwd and then `getent passwd` (NSS). */
  lookupUser(nameOrUid: string): Promise<UserEntry | undefined>;
  /** Name of the loopback interface (`lo` on Linux). */
  loopbackInterface(): Promise<string>;
  /**
   * Whether the kernel has IPv6 on: `available` when any interface has an
   * IPv6 address, `::1` included; `disabled` when none has (IPv6 off by
   * sysctl `disable_ipv6`, which takes `::1` off the loopback interface too,
   * or `ipv6.disable=1` at boot). Addresses of other interfaces do not count:
   * at boot they do not exist yet (docs/kumactl.md#k8-12).
   */
  ipv6(): Promise<Ipv6State>;
  /** Whether interface `iface` has the IP address `address` (as written by `inet_ntop`, e.g. `::6`). */
  hasAddress(iface: string, address: string): Promise<boolean>;
  /**
   * The file a command name runs (PATH for a bare name, as execvp finds it),
   * with every symlink resolved; undefined when it cannot be found. Optional:
   * detection then asks every name for its version.
   */
  realExecutable?(cmd: string): Promise<string | undefined>;
}

export type Ipv6State = "available" | "disabled";
