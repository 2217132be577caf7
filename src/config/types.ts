/**
 * The resolved configuration: what every later layer (rule builders, apply,
 * firewalld) consumes. Values are validated and normalised, but kept in the
 * user-facing form so that `kuma-tproxy config` can print them back as YAML.
 * Structured views (port ranges, CIDRs, UID ranges) come from the parsers in
 * `values.ts`, which the schema also uses for validation.
 *
 * Keys and defaults follow kumactl's `pkg/transparentproxy/config` (see
 * docs/kumactl.md#k1).
 */

/** A 1-65535 TCP/UDP port. */
export type Port = number;

export interface RedirectTraffic {
  enabled: boolean;
  port: Port;
  includePorts: Port[];
  excludePorts: Port[];
  /** Flattened and validated IPs or CIDRs, each as typed ("10.0.0.1", "fd00::/8"). */
  excludePortsForIPs: string[];
  /** `[proto:][ports:]uids` entries, validated. */
  excludePortsForUIDs: string[];
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
    /** `iface:CIDR` entries, validated. */
    vnet: { networks: string[] };
  };
  dropInvalidPackets: boolean;
  storeFirewalld: boolean;
  /** A boot unit re-applies this config (src/systemd). */
  storeSystemd: boolean;
  verbose: boolean;
  dryRun: boolean;
  /** Seconds to wait for the xtables lock; 0 = do not pass --wait. */
  wait: number;
  /** Microseconds between lock attempts; 0 = do not pass --wait-interval. */
  waitInterval: number;
  retry: {
    maxRetries: number;
    /** Go-style duration, normalised ("2s", "500ms", "1m30s"). */
    sleepBetweenRetries: string;
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
