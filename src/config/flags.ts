/**
 * The CLI flags that set config values, as a plain table: which flag sets
 * which setting, of which kind. The flag names are kumactl's
 * (`install_transparent_proxy.go`) plus a few for settings kumactl only had
 * in files and env vars. Values are passed on as typed; the schema validates
 * them like any other source. The commander wiring is in
 * `src/cli/config_flags.ts`: config does not depend on the CLI library.
 *
 * @module
 */

/** One config flag. */
export interface FlagSpec {
  /** With dashes: "--redirect-dns-port". */
  flag: string;
  /** Setting path it sets. */
  path: string;
  /**
   * boolean: bare, or `--flag=true|false` like pflag; value: one value, last
   * wins; list: one comma list, last wins; repeatable: every value is kept.
   */
  kind: "boolean" | "value" | "list" | "repeatable";
  description: string;
  valueName?: string;
  /** Hidden alternative spellings (kumactl's deprecated ones). */
  aliases?: string[];
  /** The words a shell completes for the value (the schema still decides what is valid). */
  completes?: readonly string[] | "files";
}

/** Every config flag, in help order. */
export const CONFIG_FLAGS: readonly FlagSpec[] = [
  {
    flag: "--kuma-dp-user",
    path: "kumaDPUser",
    kind: "value",
    valueName: "user",
    aliases: ["--kuma-dp-uid"],
    description: "user name or UID kuma-dp runs as (default: UID 5678, then user kuma-dp)",
  },
  {
    flag: "--ip-family-mode",
    path: "ipFamilyMode",
    kind: "value",
    valueName: "mode",
    completes: ["dualstack", "ipv4"],
    description: "dualstack or ipv4 (case-insensitive)",
  },
  {
    flag: "--backend",
    path: "backend",
    kind: "value",
    valueName: "name",
    completes: ["iptables", "nftables"],
    description: "iptables (default, kumactl compatible) or nftables (one inet table)",
  },
  {
    flag: "--redirect-inbound",
    path: "redirect.inbound.enabled",
    kind: "boolean",
    description: "redirect inbound traffic (default true; --redirect-inbound=false for gateways)",
  },
  {
    flag: "--redirect-inbound-port",
    path: "redirect.inbound.port",
    kind: "value",
    valueName: "port",
    description: "port kuma-dp listens on for inbound traffic (default 15006)",
  },
  {
    flag: "--include-inbound-ports",
    path: "redirect.inbound.includePorts",
    kind: "list",
    valueName: "ports",
    description: "comma list of the only inbound ports to redirect",
  },
  {
    flag: "--exclude-inbound-ports",
    path: "redirect.inbound.excludePorts",
    kind: "list",
    valueName: "ports",
    description: "comma list of inbound ports not to redirect (such as 22 for SSH)",
  },
  {
    flag: "--exclude-inbound-ips",
    path: "redirect.inbound.excludePortsForIPs",
    kind: "repeatable",
    valueName: "ips",
    description: "IPs or CIDRs whose inbound traffic is not redirected (repeatable, comma lists)",
  },
  {
    flag: "--redirect-inbound-insert-instead-of-append",
    path: "redirect.inbound.insertRedirectInsteadOfAppend",
    kind: "boolean",
    description: "insert the PREROUTING jump at the top instead of appending it",
  },
  {
    flag: "--redirect-outbound",
    path: "redirect.outbound.enabled",
    kind: "boolean",
    description: "redirect outbound traffic (default true; --redirect-outbound=false to turn off)",
  },
  {
    flag: "--redirect-outbound-port",
    path: "redirect.outbound.port",
    kind: "value",
    valueName: "port",
    description: "port kuma-dp listens on for outbound traffic (default 15001)",
  },
  {
    flag: "--include-outbound-ports",
    path: "redirect.outbound.includePorts",
    kind: "list",
    valueName: "ports",
    description: "comma list of the only outbound ports to redirect",
  },
  {
    flag: "--exclude-outbound-ports",
    path: "redirect.outbound.excludePorts",
    kind: "list",
    valueName: "ports",
    description: "comma list of outbound ports not to redirect",
  },
  {
    flag: "--exclude-outbound-ips",
    path: "redirect.outbound.excludePortsForIPs",
    kind: "repeatable",
    valueName: "ips",
    description: "IPs or CIDRs whose outbound traffic is not redirected (repeatable, comma lists)",
  },
  {
    flag: "--exclude-outbound-ports-for-uids",
    path: "redirect.outbound.excludePortsForUIDs",
    kind: "repeatable",
    valueName: "[proto:][ports:]uids",
    description:
      "outbound traffic of these UIDs is not redirected (repeatable; ';' separates entries)",
  },
  {
    flag: "--redirect-outbound-insert-instead-of-append",
    path: "redirect.outbound.insertRedirectInsteadOfAppend",
    kind: "boolean",
    description: "insert the OUTPUT jump at the top instead of appending it",
  },
  {
    flag: "--redirect-dns",
    path: "redirect.dns.enabled",
    kind: "boolean",
    description: "redirect DNS queries to the system resolvers to kuma-dp's DNS proxy",
  },
  {
    flag: "--redirect-all-dns-traffic",
    path: "redirect.dns.captureAll",
    kind: "boolean",
    description: "redirect all DNS traffic to kuma-dp's DNS proxy (implies DNS redirection)",
  },
  {
    flag: "--redirect-dns-port",
    path: "redirect.dns.port",
    kind: "value",
    valueName: "port",
    description: "port of kuma-dp's DNS proxy (default 15053)",
  },
  {
    flag: "--redirect-dns-resolv-config-path",
    path: "redirect.dns.resolvConfigPath",
    kind: "value",
    valueName: "path",
    completes: "files",
    description: "resolv.conf to read the resolvers from (default /etc/resolv.conf)",
  },
  {
    flag: "--skip-dns-conntrack-zone-split",
    path: "redirect.dns.skipConntrackZoneSplit",
    kind: "boolean",
    description: "do not split DNS traffic into conntrack zones",
  },
  {
    flag: "--vnet",
    path: "redirect.vnet.networks",
    kind: "repeatable",
    valueName: "iface:cidr",
    description:
      "virtual network whose traffic is redirected, like docker0:172.17.0.0/16 (repeatable)",
  },
  {
    flag: "--drop-invalid-packets",
    path: "dropInvalidPackets",
    kind: "boolean",
    description: "drop packets conntrack marks INVALID",
  },
  {
    flag: "--store-firewalld",
    path: "storeFirewalld",
    kind: "boolean",
    description: "also store the rules in firewalld so they survive reboots",
  },
  {
    flag: "--store-systemd",
    path: "storeSystemd",
    kind: "boolean",
    description: "also install a systemd unit that applies this config at boot",
  },
  {
    flag: "--allow-firewalld-flush",
    path: "allowFirewalldFlush",
    kind: "boolean",
    description: "store in a firewalld 2.x even though it then flushes other tools' iptables rules",
  },
  {
    flag: "--verbose",
    path: "verbose",
    kind: "boolean",
    description: "long option names in the rules and more logging",
  },
  {
    flag: "--dry-run",
    path: "dryRun",
    kind: "boolean",
    description: "print what would be done and change nothing",
  },
  {
    flag: "--wait",
    path: "wait",
    kind: "value",
    valueName: "seconds",
    description: "seconds to wait for the xtables lock; 0 to not wait (default 5)",
  },
  {
    flag: "--wait-interval",
    path: "waitInterval",
    kind: "value",
    valueName: "microseconds",
    description: "microseconds between xtables lock attempts (default 0)",
  },
  {
    flag: "--max-retries",
    path: "retry.maxRetries",
    kind: "value",
    valueName: "n",
    description: "retries after a failed iptables-restore (default 4)",
  },
  {
    flag: "--sleep-between-retries",
    path: "retry.sleepBetweenRetries",
    kind: "value",
    valueName: "duration",
    description:
      "pause between retries, like 2s or 500ms (default 2s; kumactl's '\"2s\"' works too)",
  },
  {
    flag: "--iptables-logs",
    path: "log.enabled",
    kind: "boolean",
    description: "log matched packets with the LOG target",
  },
  {
    flag: "--log-level",
    path: "log.level",
    kind: "value",
    valueName: "level",
    description: "syslog level of the LOG rules, 0-7 (default 7)",
  },
  {
    flag: "--disable-comments",
    path: "comments.disabled",
    kind: "boolean",
    description: "write the rules without comments (uninstall then cannot find them)",
  },
  {
    flag: "--iptables-executables",
    path: "iptablesExecutables",
    kind: "value",
    valueName: "name:path,...",
    description: "executables to use, like iptables:/usr/sbin/iptables-nft,ip6tables:...",
  },
  {
    flag: "--ebpf-enabled",
    path: "ebpf.enabled",
    kind: "boolean",
    description: "kumactl's eBPF mode; not supported by kuma-tproxy",
  },
  ...([
    ["--ebpf-instance-ip", "ebpf.instanceIP", "ip"],
    ["--ebpf-bpffs-path", "ebpf.bpffsPath", "path"],
    ["--ebpf-cgroup-path", "ebpf.cgroupPath", "path"],
    ["--ebpf-programs-source-path", "ebpf.programsSourcePath", "path"],
    ["--ebpf-tc-attach-iface", "ebpf.tcAttachIface", "iface"],
  ] as const).map(([flag, path, valueName]): FlagSpec => ({
    flag,
    path,
    kind: "value",
    valueName,
    description: "kumactl eBPF setting; accepted for compatibility, eBPF itself is not supported",
  })),
];

/** A kumactl flag that no longer does anything here, accepted so that documented command lines work. */
export interface NoOpFlag {
  flag: string;
  /** Set for a flag that takes a value. */
  valueName?: string;
  /** Why it does nothing, completing "<flag> is accepted for compatibility and ...". */
  note: string;
}

/** The warning for a no-op flag that was given: "<flag> is accepted for compatibility and <note>". */
export function noOpNote(noop: NoOpFlag): string {
  return `${noop.flag} is accepted for compatibility and ${noop.note}`;
}

/** kumactl flags that are accepted, ignored, and reported as such. */
export const NO_OP_FLAGS: readonly NoOpFlag[] = [
  {
    // In the Kuma 2.0-2.2 docs' eBPF example; kumactl made that engine the only one.
    flag: "--experimental-transparent-proxy-engine",
    note:
      "has no effect: the engine it opted into became kumactl's only one, and is the one kuma-tproxy implements",
  },
  {
    // kumactl 1.x: where DNS traffic to the upstream resolvers jumped (Docker's
    // chain). kumactl 2.x, and kuma-tproxy, find DOCKER_OUTPUT themselves (kuma #2585).
    flag: "--redirect-dns-upstream-target-chain",
    valueName: "chain",
    note: "has no effect: Docker's DOCKER_OUTPUT chain is detected and used automatically",
  },
];
