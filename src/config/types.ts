/**
 * The resolved configuration: what every later layer (rule builders, apply,
 * firewalld) consumes. The schema parses every value once, into the
 * structured form the builders use (ports as numbers, UID exclusions and
 * vnets as objects, IPs with their family, durations in milliseconds), so a
 * builder never parses and can never fail on a value. `kuma-tproxy config`
 * formats the values back (each schema leaf carries its formatter, see
 * `keys.ts` LEAF_FORMATS), into YAML that `--config` reads back to the same
 * `Config`.
 *
 * Keys and defaults follow kumactl's `pkg/transparentproxy/config` (see
 * docs/kumactl.md#k1).
 */
import type { IpNet, UidExclusion, VnetNetwork } from "./values.ts";

export type { IpNet, UidExclusion, VnetNetwork };

/** A 1-65535 TCP/UDP port. */
export type Port = number;

export interface RedirectTraffic {
  enabled: boolean;
  port: Port;
  includePorts: Port[];
  excludePorts: Port[];
  /** Flattened IPs or CIDRs in the order given, each as typed ("10.0.0.1", "fd00::/8") with its family. */
  excludePortsForIPs: IpNet[];
  /** Parsed `[proto:][ports:]uids` entries. */
  excludePortsForUIDs: UidExclusion[];
  insertRedirectInsteadOfAppend: boolean;
  /** Env-only in kumactl: `KUMA_TRANSPARENT_PROXY_REDIRECT_INBOUND_CHAIN_NAME`. */
  chainName: string;
  /** Env-only in kumactl: `..._REDIRECT_CHAIN_NAME`. */
  redirectChainName: string;
}

export interface RedirectDNS {
  enabled: boolean;
  captureAll: boolean;
  port: Port;
  skipConntrackZoneSplit: boolean;
  resolvConfigPath: string;
}

export type IpFamilyMode = "dualstack" | "ipv4";

/** Which kernel interface holds the rules: iptables (kumactl compatible) or one nftables `inet` table. */
export type Backend = "iptables" | "nftables";

export type ExecutableName =
  | "iptables"
  | "iptables-save"
  | "iptables-restore"
  | "ip6tables"
  | "ip6tables-save"
  | "ip6tables-restore";

export interface Config {
  /** Username or UID; "" means auto (UID 5678, then user kuma-dp). */
  kumaDPUser: string;
  ipFamilyMode: IpFamilyMode;
  backend: Backend;
  redirect: {
    inbound: RedirectTraffic;
    outbound: RedirectTraffic;
    dns: RedirectDNS;
    /** Parsed `iface:CIDR` entries, in the order given. */
    vnet: { networks: VnetNetwork[] };
  };
  dropInvalidPackets: boolean;
  storeFirewalld: boolean;
  /** A boot unit re-applies this config (src/systemd). */
  storeSystemd: boolean;
  /**
   * `--store-firewalld` on a firewalld that would then flush other tools'
   * iptables rules (firewalld 2.x, docs/firewalld.md#f12): go ahead anyway.
   */
  allowFirewalldFlush: boolean;
  verbose: boolean;
  dryRun: boolean;
  /** Seconds to wait for the xtables lock; 0 = do not pass --wait. */
  wait: number;
  /** Microseconds between lock attempts; 0 = do not pass --wait-interval. */
  waitInterval: number;
  retry: {
    maxRetries: number;
    /** Milliseconds; written as a Go-style duration ("2s", "500ms", "1m30s"). */
    sleepBetweenRetries: number;
  };
  log: { enabled: boolean; level: number };
  comments: { disabled: boolean };
  iptablesExecutables: Partial<Record<ExecutableName, string>>;
  cniMode: boolean;
  ebpf: {
    enabled: boolean;
    instanceIP: string;
    instanceIPEnvVarName: string;
    bpffsPath: string;
    cgroupPath: string;
    programsSourcePath: string;
    tcAttachIface: string;
  };
}
