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
   * Whether IPv6 can be configured: `available` when an interface has a
   * non-loopback IPv6 address (link-local counts, as in kumactl's
   * HasLocalIPv6); `no-address` when only `::1` exists; `disabled` when no
   * interface has any IPv6 address, not even `::1` (IPv6 disabled by sysctl
   * `disable_ipv6` or at boot).
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

export type Ipv6State = "available" | "no-address" | "disabled";
