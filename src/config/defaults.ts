import type { Config, RedirectTraffic } from "./types.ts";

/** kumactl's `DefaultConfig()` (pkg/transparentproxy/config/config.go). */
export function defaultConfig(): Config {
  const traffic = (
    port: number,
    chainName: string,
    redirectChainName: string,
  ): RedirectTraffic => ({
    enabled: true,
    port,
    includePorts: [],
    excludePorts: [],
    excludePortsForIPs: [],
    excludePortsForUIDs: [],
    insertRedirectInsteadOfAppend: false,
    chainName,
    redirectChainName,
  });
  return {
    kumaDPUser: "",
    ipFamilyMode: "dualstack",
    backend: "iptables",
    redirect: {
      inbound: traffic(15006, "INBOUND", "INBOUND_REDIRECT"),
      outbound: traffic(15001, "OUTBOUND", "OUTBOUND_REDIRECT"),
      dns: {
        enabled: false,
        captureAll: false,
        port: 15053,
        skipConntrackZoneSplit: false,
        resolvConfigPath: "/etc/resolv.conf",
      },
      vnet: { networks: [] },
    },
    dropInvalidPackets: false,
    storeFirewalld: false,
    storeSystemd: false,
    allowFirewalldFlush: false,
    verbose: false,
    dryRun: false,
    wait: 5,
    waitInterval: 0,
    retry: { maxRetries: 4, sleepBetweenRetries: 2000 },
    log: { enabled: false, level: 7 },
    comments: { disabled: false },
    iptablesExecutables: {},
    cniMode: false,
    ebpf: {
      enabled: false,
      instanceIP: "",
      instanceIPEnvVarName: "",
      bpffsPath: "/run/kuma/bpf",
      cgroupPath: "/sys/fs/cgroup",
      programsSourcePath: "/tmp/kuma-ebpf",
      tcAttachIface: "",
    },
  };
}

/** Default kuma-dp UID and user name (kumactl `consts.go`). */
export const DEFAULT_KUMA_DP_UID = 5678;
export const DEFAULT_KUMA_DP_USER = "kuma-dp";
