/**
 * One table of bad inputs from every kind of source. Each case states the
 * error code, the setting path, and the source the error must name.
 */
import { assert, assertEquals, assertRejects, assertStringIncludes } from "../../assert.ts";
import { resolveConfig } from "../../../src/config/resolve.ts";
import { ConfigError } from "../../../src/config/errors.ts";
import { fakeInputs, type FakeSources, flag } from "./fake_inputs.ts";

interface BadCase {
  name: string;
  sources: FakeSources;
  code: ConfigError["code"];
  path: string;
  source: string;
  /** A fragment the message must hold, where the code alone does not tell the cause. */
  says?: string;
}

const E = "KUMA_TRANSPARENT_PROXY_";
const file = (text: string): FakeSources => ({
  files: { "/tp.yaml": text },
  configSources: ["/tp.yaml"],
});
const env = (name: string, value: string): FakeSources => ({ env: { [E + name]: value } });
const flagged = (f: string, path: string, raw: string | boolean | string[]): FakeSources => ({
  flags: [flag(f, path, raw)],
});

const CASES: BadCase[] = [
  // files
  {
    name: "a kuma-dp UID above the highest UID, as a YAML number (getent would wrap it)",
    sources: file("kumaDPUser: 4294967296\n"),
    code: "invalid_value",
    path: "kumaDPUser",
    source: "file:/tp.yaml:1:13",
  },
  {
    name: "a kuma-dp UID above the highest UID in an env var",
    sources: env("KUMA_DP_USER", "4294967297"),
    code: "invalid_value",
    path: "kumaDPUser",
    source: `env:${E}KUMA_DP_USER`,
  },
  {
    name: "port out of range in a file",
    sources: file("redirect:\n  dns:\n    port: 70000\n"),
    code: "invalid_value",
    path: "redirect.dns.port",
    source: "file:/tp.yaml:3:11",
  },
  {
    name: "bad item in a port list names the item's line",
    sources: file("redirect:\n  inbound:\n    excludePorts:\n      - 22\n      - http\n"),
    code: "invalid_value",
    path: "redirect.inbound.excludePorts",
    source: "file:/tp.yaml:5:9",
  },
  {
    name: "boolean given as a word YAML does not know",
    sources: file("verbose: yes\n"),
    code: "invalid_value",
    path: "verbose",
    source: "file:/tp.yaml:1:10",
  },
  {
    name: "invalid IP in a file list",
    sources: file("redirect:\n  outbound:\n    excludePortsForIPs: ['10.0.0.1', '10.0.0.300']\n"),
    code: "invalid_value",
    path: "redirect.outbound.excludePortsForIPs",
    source: "file:/tp.yaml:3:38",
  },
  {
    name: "unknown top-level key",
    sources: file("verbos: true\n"),
    code: "unknown_key",
    path: "verbos",
    source: "file:/tp.yaml:1:1",
  },
  {
    name: "unknown executable name",
    sources: file("iptablesExecutables:\n  iptables-nft: /usr/sbin/iptables-nft\n"),
    code: "unknown_key",
    path: "iptablesExecutables.iptables-nft",
    source: "file:/tp.yaml:2:3",
  },
  {
    name: "scalar where a mapping belongs",
    sources: file("redirect: 5\n"),
    code: "invalid_value",
    path: "redirect",
    source: "file:/tp.yaml:1:11",
  },
  {
    name: "YAML syntax error",
    sources: file("redirect:\n  dns: {port: 53\n"),
    code: "parse_error",
    path: "",
    source: "file:/tp.yaml:",
  },
  {
    name: "duplicate key",
    sources: file("verbose: true\nverbose: false\n"),
    code: "parse_error",
    path: "",
    source: "file:/tp.yaml:2:1",
  },
  {
    name: "missing file",
    sources: { configSources: ["/nope.yaml"] },
    code: "unreadable_source",
    path: "",
    source: "file:/nope.yaml",
  },
  {
    name: "cniMode enabled",
    sources: file("cniMode: true\n"),
    code: "unsupported",
    path: "cniMode",
    source: "file:/tp.yaml:1:10",
  },
  {
    name: "eBPF enabled",
    sources: file("ebpf:\n  enabled: true\n"),
    code: "unsupported",
    path: "ebpf.enabled",
    source: "file:/tp.yaml:2:12",
  },
  {
    name: "inbound UID exclusions (kumactl K8.4)",
    sources: file("redirect:\n  inbound:\n    excludePortsForUIDs: ['1000']\n"),
    code: "unsupported",
    path: "redirect.inbound.excludePortsForUIDs",
    source: "file:/tp.yaml:3:26",
  },
  {
    name: "log level above 7 from stdin",
    sources: { stdin: "log:\n  level: 8\n", configSources: ["-"] },
    code: "invalid_value",
    path: "log.level",
    source: "stdin:2:10",
  },
  {
    name: "top-level list from stdin",
    sources: { stdin: "- verbose\n", configSources: ["-"] },
    code: "invalid_value",
    path: "",
    source: "stdin:1:1",
  },
  {
    name: "stdin twice",
    sources: { stdin: "", configSources: ["-", "-"] },
    code: "conflict",
    path: "",
    source: "flag:--config",
  },
  {
    name: "invalid UTF-8 in a file names its line and column",
    sources: {
      files: {
        "/tp.yaml": new Uint8Array([...new TextEncoder().encode("verbose: true\n# ab"), 0xff]),
      },
      configSources: ["/tp.yaml"],
    },
    code: "parse_error",
    path: "",
    source: "file:/tp.yaml:2:5",
  },
  {
    name: "a quoted port in a file (kumactl rejects it too)",
    sources: file('redirect:\n  inbound:\n    port: "15006"\n'),
    code: "invalid_value",
    path: "redirect.inbound.port",
    source: "file:/tp.yaml:3:11",
  },
  {
    name: "a quoted log level in a file",
    sources: file("log:\n  level: '7'\n"),
    code: "invalid_value",
    path: "log.level",
    source: "file:/tp.yaml:2:10",
  },
  {
    name: "a quoted boolean in a file",
    sources: file('redirect:\n  dns:\n    enabled: "true"\n'),
    code: "invalid_value",
    path: "redirect.dns.enabled",
    source: "file:/tp.yaml:3:14",
  },
  {
    name: "a number for a boolean in a file",
    sources: file("verbose: 1\n"),
    code: "invalid_value",
    path: "verbose",
    source: "file:/tp.yaml:1:10",
  },
  {
    name: "a list longer than the limit in a file",
    sources: file(`redirect:\n  inbound:\n    excludePorts: [${Array(4097).fill(22).join(",")}]\n`),
    code: "invalid_value",
    path: "redirect.inbound.excludePorts",
    source: "file:/tp.yaml:3:19",
  },
  {
    name: "an alias bomb in a file",
    sources: file(
      "a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n" +
        Array.from({ length: 6 }, (_, i) => {
          const prev = i === 0 ? "a" : `b${i - 1}`;
          return `b${i}: &b${i} [${Array(10).fill(`*${prev}`).join(", ")}]\n`;
        }).join("") +
        "redirect:\n  inbound:\n    excludePorts: *b5\n",
    ),
    code: "parse_error",
    path: "",
    source: "file:/tp.yaml:10:19",
  },
  {
    name: "aliases nesting lists inside each other until the stack overflows",
    sources: file(
      Array.from(
        { length: 199 },
        (_, i) =>
          `a${i + 1}: &a${i + 1} ${"[".repeat(40)}${i === 0 ? "1" : `*a${i}`}${"]".repeat(40)}\n`,
      )
        .join("") + "redirect:\n  inbound:\n    excludePorts: *a199\n",
    ),
    code: "parse_error",
    path: "",
    source: "file:/tp.yaml:202:19",
    says: "nests lists and mappings more than 64 deep",
  },
  {
    name: "inline YAML where a file path belongs",
    sources: { configSources: ["kumaDPUser: dataplane\\nverbose: true"] },
    code: "unsupported",
    path: "--config",
    source: "flag:--config",
  },
  {
    name: "an inline flow mapping, not split at its commas",
    sources: { configSources: ["{ kumaDPUser: dataplane, verbose: true }"] },
    code: "unsupported",
    path: "--config",
    source: "flag:--config",
  },
  // env vars
  {
    name: "zero port in env",
    sources: env("REDIRECT_DNS_PORT", "0"),
    code: "invalid_value",
    path: "redirect.dns.port",
    source: `env:${E}REDIRECT_DNS_PORT`,
  },
  {
    name: "bad bool in env",
    sources: env("VERBOSE", "yes"),
    code: "invalid_value",
    path: "verbose",
    source: `env:${E}VERBOSE`,
  },
  {
    name: "unknown ip family mode in env",
    sources: env("IP_FAMILY_MODE", "ipv6"),
    code: "invalid_value",
    path: "ipFamilyMode",
    source: `env:${E}IP_FAMILY_MODE`,
  },
  {
    name: "unknown backend in env",
    sources: env("BACKEND", "nft"),
    code: "invalid_value",
    path: "backend",
    source: `env:${E}BACKEND`,
  },
  {
    name: "UID wildcard in env",
    sources: env("REDIRECT_OUTBOUND_EXCLUDE_PORTS_FOR_UIDS", "tcp:80:*"),
    code: "invalid_value",
    path: "redirect.outbound.excludePortsForUIDs",
    source: `env:${E}REDIRECT_OUTBOUND_EXCLUDE_PORTS_FOR_UIDS`,
  },
  {
    name: "bad duration in env",
    sources: env("RETRY_SLEEP_BETWEEN_RETRIES", "2 seconds"),
    code: "invalid_value",
    path: "retry.sleepBetweenRetries",
    source: `env:${E}RETRY_SLEEP_BETWEEN_RETRIES`,
  },
  {
    name: "lower-case chain name in env",
    sources: env("REDIRECT_INBOUND_CHAIN_NAME", "inbound"),
    code: "invalid_value",
    path: "redirect.inbound.chainName",
    source: `env:${E}REDIRECT_INBOUND_CHAIN_NAME`,
  },
  {
    name: "executables entry without a path in env",
    sources: env("IPTABLES_EXECUTABLES", "iptables"),
    code: "invalid_value",
    path: "iptablesExecutables",
    source: `env:${E}IPTABLES_EXECUTABLES`,
  },
  {
    name: "unknown env var",
    sources: env("REDIRECT_DNS_CAPTUREALL", "true"),
    code: "unknown_key",
    path: `${E}REDIRECT_DNS_CAPTUREALL`,
    source: `env:${E}REDIRECT_DNS_CAPTUREALL`,
  },
  {
    name: "negative wait in env",
    sources: env("WAIT", "-1"),
    code: "invalid_value",
    path: "wait",
    source: `env:${E}WAIT`,
  },
  {
    name: "an empty UID entry in env",
    sources: env("REDIRECT_OUTBOUND_EXCLUDE_PORTS_FOR_UIDS", "1000;;udp:53:1001"),
    code: "invalid_value",
    path: "redirect.outbound.excludePortsForUIDs",
    source: `env:${E}REDIRECT_OUTBOUND_EXCLUDE_PORTS_FOR_UIDS`,
  },
  {
    name: "a vnet interface with a backslash in env",
    sources: env("REDIRECT_VNET_NETWORKS", "dock\\er:172.17.0.0/16"),
    code: "invalid_value",
    path: "redirect.vnet.networks",
    source: `env:${E}REDIRECT_VNET_NETWORKS`,
  },
  // flags
  {
    name: "a port list longer than the limit on a flag",
    sources: flagged(
      "--exclude-outbound-ports",
      "redirect.outbound.excludePorts",
      Array(4097).fill("443").join(","),
    ),
    code: "invalid_value",
    path: "redirect.outbound.excludePorts",
    source: "flag:--exclude-outbound-ports",
  },
  {
    name: "a vnet interface with quotes on a flag",
    sources: flagged("--vnet", "redirect.vnet.networks", [`do"ck'er:172.17.0.0/16`]),
    code: "invalid_value",
    path: "redirect.vnet.networks",
    source: "flag:--vnet",
  },
  {
    name: "port out of range on a flag",
    sources: flagged("--redirect-dns-port", "redirect.dns.port", "70000"),
    code: "invalid_value",
    path: "redirect.dns.port",
    source: "flag:--redirect-dns-port",
  },
  {
    name: "bad bool value on a flag",
    sources: flagged("--redirect-inbound", "redirect.inbound.enabled", "nope"),
    code: "invalid_value",
    path: "redirect.inbound.enabled",
    source: "flag:--redirect-inbound",
  },
  {
    name: "vnet without a CIDR prefix",
    sources: flagged("--vnet", "redirect.vnet.networks", ["docker0:172.17.0.1"]),
    code: "invalid_value",
    path: "redirect.vnet.networks",
    source: "flag:--vnet",
  },
  {
    name: "bad port in a flag port list",
    sources: flagged("--exclude-outbound-ports", "redirect.outbound.excludePorts", "53,x"),
    code: "invalid_value",
    path: "redirect.outbound.excludePorts",
    source: "flag:--exclude-outbound-ports",
  },
  {
    name: "bad IP on a repeatable flag",
    sources: flagged("--exclude-inbound-ips", "redirect.inbound.excludePortsForIPs", [
      "10.0.0.0/40",
    ]),
    code: "invalid_value",
    path: "redirect.inbound.excludePortsForIPs",
    source: "flag:--exclude-inbound-ips",
  },
  {
    name: "non-numeric retries on a flag",
    sources: flagged("--max-retries", "retry.maxRetries", "many"),
    code: "invalid_value",
    path: "retry.maxRetries",
    source: "flag:--max-retries",
  },
  {
    name: "eBPF flag",
    sources: flagged("--ebpf-enabled", "ebpf.enabled", true),
    code: "unsupported",
    path: "ebpf.enabled",
    source: "flag:--ebpf-enabled",
  },
  {
    name: "unknown executable on a flag",
    sources: flagged("--iptables-executables", "iptablesExecutables", "iptable:/x"),
    code: "unknown_key",
    path: "iptablesExecutables.iptable",
    source: "flag:--iptables-executables",
  },
  {
    name: "both DNS flags (kumactl rejects the pair)",
    sources: {
      flags: [
        flag("--redirect-dns", "redirect.dns.enabled", true),
        flag("--redirect-all-dns-traffic", "redirect.dns.captureAll", true),
      ],
    },
    code: "conflict",
    path: "redirect.dns",
    source: "flag:--redirect-all-dns-traffic",
  },
];

for (const c of CASES) {
  Deno.test(`resolveConfig() rejects ${c.name}`, async () => {
    const e = await assertRejects(() => resolveConfig(fakeInputs(c.sources)), ConfigError);
    assertEquals([e.code, e.path], [c.code, c.path], e.message);
    assert(e.source.startsWith(c.source), `source ${e.source}, want ${c.source}`);
    // The message names the setting (when there is one) and the place.
    if (c.path) assert(e.message.startsWith(`${c.path}: `), e.message);
    const place = c.source.replace(/^file:/, "").replace(/^(env|flag):/, "$1 ");
    assert(e.message.includes(place), `${e.message} should name ${place}`);
    if (c.says) assertStringIncludes(e.message, c.says);
  });
}

Deno.test("the bad-input table covers at least 25 cases across files, stdin, env and flags", () => {
  assert(CASES.length >= 25);
  for (const kind of ["file:", "stdin:", "env:", "flag:"]) {
    assert(CASES.some((c) => c.source.startsWith(kind)), kind);
  }
});
