/**
 * THE table of cases. Each case states one behaviour once: the command line
 * (flags, env, files, stdin, resolv.conf) a user would run. Its Config comes
 * from that command line through the real resolver (`configForCase`), so the
 * golden-text tests, the CLI tests and the namespace traffic tests cannot
 * drift apart.
 *
 * The first three mirror kumactl's own test cases (kumahq/kuma
 * test/transparentproxy/config.go; tests/testdata/kuma-goldens/cases.yaml),
 * whose iptables-save output kumactl produced on Debian 12.
 */
import { Command } from "commander";
import { addConfigOptions, collectInputs } from "../src/cli/config_flags.ts";
import { resolveConfig } from "../src/config/resolve.ts";
import type { Config } from "../src/config/types.ts";
import { type BuildFacts, FULL_FUNCTIONALITY } from "../src/rules/facts.ts";
import { parseNameservers } from "../src/host/parse.ts";
import type { Family } from "../src/rules/model.ts";

/** One command line and the config it means. */
export interface Case {
  name: string;
  flags: string[];
  env?: Record<string, string>;
  /** Files to create before running, by absolute path. */
  files?: Record<string, string>;
  stdin?: string;
  /** Content of the resolv.conf the case runs with. */
  resolvConf?: string;
}

/** The kuma-dp UID every case runs with (kumactl's default; cases.yaml's `kuma-dp` user). */
export const CASE_UID = 5678;

/** A resolv.conf with IPv4 resolvers only, the common case (no IPv6 DNS). */
export const RESOLV_CONF_V4 = "nameserver 10.0.0.2\n";

const KUMA_DP = ["--kuma-dp-user", "kuma-dp"];

/** Every case, kumactl's three first. */
export const CASES: readonly Case[] = [
  {
    name: "default",
    flags: [...KUMA_DP],
  },
  {
    name: "with-multiple-flags",
    flags: [
      ...KUMA_DP,
      "--redirect-all-dns-traffic",
      ...["--vnet", "docker0:172.17.0.0/16", "--vnet", "br+:172.18.0.0/16"],
      ...["--vnet", "iface:::1/64"],
      ...["--exclude-outbound-ports-for-uids", "53,3000-5000:106-108"],
      ...["--exclude-outbound-ips", "10.0.0.1,192.168.0.0/24,fe80::1"],
      ...["--exclude-outbound-ips", "fd00::/8"],
      ...["--exclude-outbound-ports", "1,22,333"],
      ...["--exclude-inbound-ports", "4444,55555"],
      ...["--exclude-inbound-ips", "192.168.0.1,172.32.16.8/16,fe80::/10"],
      ...["--exclude-inbound-ips", "a81b:a033:6399:73c7:72b6:aa8c:6f22:7098"],
    ],
  },
  {
    name: "with-multiple-config-flags",
    flags: [...KUMA_DP, "--config", "/1.yaml", "--config", "/2.yaml", "--config", "-"],
    files: {
      "/1.yaml": ["redirect:", "  dns:", "    enabled: false", "    port: 7777", ""].join("\n"),
      "/2.yaml": [
        "redirect:",
        "  dns:",
        "    enabled: true",
        "    port: 8888",
        "  outbound:",
        "    excludePortsForIPs:",
        "    - 10.11.12.13",
        "    - 172.14.15.16/32",
        "  inbound:",
        "    excludePorts:",
        "    - 10000",
        "    - 20000",
        "",
      ].join("\n"),
    },
    stdin: [
      "redirect:",
      "  vnet:",
      "    networks:",
      "    - docker2:10.0.0.0/8",
      "    - docker0:172.17.0.0/16",
      "    - br+:172.18.0.0/16",
      "    - iface:::1/64",
      "  dns:",
      "    enabled: true",
      "    captureAll: true",
      "  inbound:",
      "    enabled: true",
      "    excludePorts:",
      "    - 4444",
      "    - 55555",
      "    excludePortsForIPs:",
      "    - 192.168.0.1,172.32.16.8/16,fe80::/10",
      "    - a81b:a033:6399:73c7:72b6:aa8c:6f22:7098",
      "  outbound:",
      "    enabled: true",
      "    excludePortsForUIDs:",
      "    - 1",
      "    - 2-3:4-5",
      "    excludePorts:",
      "    - 6",
      "    - 77",
      "    - 888",
      "    excludePortsForIPs:",
      "    - 10.0.0.1,192.168.0.0/24,fe80::1",
      "    - fd00::/8",
      "",
    ].join("\n"),
  },
  {
    name: "dns-per-resolver",
    flags: [...KUMA_DP, "--redirect-dns"],
    // A loopback resolver (systemd-resolved) gets the extra raw rule; the
    // IPv6 one makes ip6tables redirect DNS too.
    resolvConf: "nameserver 10.0.0.2\nnameserver 127.0.0.53\nnameserver fd00::53\n",
  },
  {
    name: "dns-ipv4-resolvers-only",
    flags: [...KUMA_DP, "--redirect-dns"],
    resolvConf: RESOLV_CONF_V4,
  },
  {
    name: "dns-skip-conntrack-zone-split",
    flags: [...KUMA_DP, "--redirect-dns", "--skip-dns-conntrack-zone-split"],
    resolvConf: RESOLV_CONF_V4,
  },
  {
    name: "logs",
    // With the inbound insert the LOG rule must still be first in PREROUTING (kumactl quirk K8.6).
    flags: [...KUMA_DP, "--iptables-logs", "--redirect-inbound-insert-instead-of-append"],
    env: { KUMA_TRANSPARENT_PROXY_LOG_LEVEL: "4" },
  },
  {
    name: "drop-invalid",
    flags: [...KUMA_DP, "--drop-invalid-packets"],
  },
  {
    name: "include-ports",
    // No flags exist for includePorts; they take precedence over excludePorts.
    flags: [...KUMA_DP, "--exclude-inbound-ports", "22", "--exclude-outbound-ports", "25"],
    env: {
      KUMA_TRANSPARENT_PROXY_REDIRECT_INBOUND_INCLUDE_PORTS: "8080,8443",
      KUMA_TRANSPARENT_PROXY_REDIRECT_OUTBOUND_INCLUDE_PORTS: "80,443",
    },
  },
  {
    name: "outbound-disabled",
    flags: [...KUMA_DP],
    env: { KUMA_TRANSPARENT_PROXY_REDIRECT_OUTBOUND_ENABLED: "false" },
  },
  {
    name: "inbound-disabled",
    flags: [...KUMA_DP, "--redirect-inbound=false"],
  },
  {
    name: "inbound-insert",
    flags: [
      ...KUMA_DP,
      "--redirect-inbound-insert-instead-of-append",
      "--redirect-outbound-insert-instead-of-append",
      "--redirect-dns",
    ],
    resolvConf: RESOLV_CONF_V4,
  },
  {
    name: "vnet-without-dns",
    // kumactl quirk K8.6 fixed: no vnet DNS rules while DNS redirect is off.
    flags: [...KUMA_DP, "--vnet", "docker0:172.17.0.0/16", "--vnet", "br+:fd00:1::/64"],
  },
  {
    name: "comments-disabled",
    flags: [...KUMA_DP, "--disable-comments", "--exclude-outbound-ports-for-uids", "udp:*:1000"],
  },
  {
    name: "custom-ports-and-chains",
    flags: [
      ...KUMA_DP,
      ...["--redirect-inbound-port", "25006", "--redirect-outbound-port", "25001"],
      ...["--redirect-dns", "--redirect-dns-port", "25053"],
    ],
    env: {
      KUMA_TRANSPARENT_PROXY_REDIRECT_INBOUND_CHAIN_NAME: "IN",
      KUMA_TRANSPARENT_PROXY_REDIRECT_OUTBOUND_REDIRECT_CHAIN_NAME: "OUT_REDIR",
    },
    resolvConf: RESOLV_CONF_V4,
  },
];

/** The case named `name`; throws if there is none. */
export function getCase(name: string): Case {
  const found = CASES.find((c) => c.name === name);
  if (found === undefined) throw new Error(`No case named ${JSON.stringify(name)}`);
  return found;
}

/**
 * The Config a case's command line resolves to: its flags parsed by the real
 * commander wiring, its files, stdin and env served from memory, through
 * `resolveConfig`.
 */
export async function configForCase(name: string): Promise<Config> {
  const c = getCase(name);
  const cmd = new Command("install").exitOverride();
  addConfigOptions(cmd);
  cmd.parse(c.flags, { from: "user" });
  const { configSources, flags } = collectInputs(cmd);
  const { config } = await resolveConfig({
    configSources,
    flags,
    env: c.env ?? {},
    readFile: (path) => {
      const text = c.files?.[path];
      return text === undefined
        ? Promise.reject(new Deno.errors.NotFound(path))
        : Promise.resolve(text);
    },
    readStdin: () => Promise.resolve(c.stdin ?? ""),
  });
  return config;
}

/**
 * Host facts for a case: UID 5678, loopback `lo`, every table and module,
 * and the resolv.conf nameservers of the family.
 */
export function factsForCase(name: string, family: Family): BuildFacts {
  const resolvConf = getCase(name).resolvConf ?? "";
  const nameservers = parseNameservers(resolvConf).filter((ns) =>
    family === 6 ? ns.includes(":") : !ns.includes(":")
  );
  return { family, uid: CASE_UID, loopback: "lo", nameservers, functionality: FULL_FUNCTIONALITY };
}
