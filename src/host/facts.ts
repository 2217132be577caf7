/**
 * Facts about the host that the rules depend on, behind one small interface
 * so that unit tests can hand in fixed answers. `system_facts.ts` is the real
 * implementation.
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
  /**
   * The file a command name runs (PATH for a bare name, as execvp finds it),
   * with every symlink resolved; undefined when it cannot be found. Optional:
   * detection then asks every name for its version.
   */
  realExecutable?(cmd: string): Promise<string | undefined>;
}

export type Ipv6State = "available" | "no-address" | "disabled";

/** What the detected iptables backend can do, per family (kumactl `Functionality`). */
export interface Functionality {
  tables: { nat: boolean; raw: boolean; mangle: boolean };
  modules: {
    comment: boolean;
    conntrack: boolean;
    owner: boolean;
    multiport: boolean;
    tcp: boolean;
    udp: boolean;
  };
  /** The nat table has a `DOCKER_OUTPUT` chain (Docker's embedded DNS). */
  dockerOutput: boolean;
}

/** Everything the builders need besides the config. */
export interface BuildFacts {
  family: import("../rules/model.ts").Family;
  /** Resolved kuma-dp UID. */
  uid: number;
  loopback: string;
  /** Nameservers of this family (ignored when DNS capture-all is on). */
  nameservers: string[];
  functionality: Functionality;
}

/** A Functionality with everything present: what a standard Linux host has. */
export const FULL_FUNCTIONALITY: Functionality = {
  tables: { nat: true, raw: true, mangle: true },
  modules: { comment: true, conntrack: true, owner: true, multiport: true, tcp: true, udp: true },
  dockerOutput: false,
};
