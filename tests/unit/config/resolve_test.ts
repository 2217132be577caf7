import { assert, assertEquals, assertRejects } from "../../assert.ts";
import { resolveConfig } from "../../../src/config/resolve.ts";
import { ConfigError } from "../../../src/config/errors.ts";
import { defaultConfig } from "../../../src/config/defaults.ts";
import { renderConfigYaml, renderExplain } from "../../../src/config/explain.ts";
import { fakeInputs, flag } from "./fake_inputs.ts";
import { parseIpOrCidr, parseUidExclusion, parseVnet } from "../../../src/config/values.ts";

const DNS_PORT_ENV = "KUMA_TRANSPARENT_PROXY_REDIRECT_DNS_PORT";

Deno.test("resolveConfig() gives the defaults when nothing is set", async () => {
  const { config, origins } = await resolveConfig(fakeInputs());
  assertEquals(config, defaultConfig());
  assertEquals(origins["redirect.dns.port"], "default");
});

Deno.test("resolveConfig() lets flags beat env beat files beat defaults", async () => {
  const files = { "/tp.yaml": "redirect:\n  dns:\n    port: 1001\n" };
  const env = { [DNS_PORT_ENV]: "1002" };
  const flags = [flag("--redirect-dns-port", "redirect.dns.port", "1003")];

  const all = await resolveConfig(fakeInputs({ files, configSources: ["/tp.yaml"], env, flags }));
  assertEquals(all.config.redirect.dns.port, 1003);
  assertEquals(all.origins["redirect.dns.port"], "flag:--redirect-dns-port");

  const noFlag = await resolveConfig(fakeInputs({ files, configSources: ["/tp.yaml"], env }));
  assertEquals(noFlag.config.redirect.dns.port, 1002);
  assertEquals(noFlag.origins["redirect.dns.port"], `env:${DNS_PORT_ENV}`);

  const fileOnly = await resolveConfig(fakeInputs({ files, configSources: ["/tp.yaml"] }));
  assertEquals(fileOnly.config.redirect.dns.port, 1001);
  assertEquals(fileOnly.origins["redirect.dns.port"], "file:/tp.yaml:3:11");
});

Deno.test("resolveConfig() reads env vars even without --config (kumactl K8.1)", async () => {
  const { config } = await resolveConfig(fakeInputs({ env: { [DNS_PORT_ENV]: "5353" } }));
  assertEquals(config.redirect.dns.port, 5353);
});

Deno.test("resolveConfig() merges files in order: later scalars win, lists replace, absent keys stay", async () => {
  const files = {
    "/a.yaml": [
      "kumaDPUser: alice",
      "redirect:",
      "  inbound:",
      "    excludePorts: [22, 80, 443]",
      "  dns: {enabled: true}",
    ].join("\n"),
    "/b.yaml": "kumaDPUser: bob\nredirect:\n  inbound:\n    excludePorts: [8080]\n",
  };
  const { config, origins } = await resolveConfig(
    fakeInputs({ files, configSources: ["/a.yaml", "/b.yaml"] }),
  );
  assertEquals(config.kumaDPUser, "bob");
  assertEquals(config.redirect.inbound.excludePorts, [8080]);
  assertEquals(config.redirect.dns.enabled, true);
  assertEquals(origins["redirect.dns.enabled"], "file:/a.yaml:5:18");
  assertEquals(origins["kumaDPUser"], "file:/b.yaml:1:13");
});

Deno.test("resolveConfig() splits comma-separated --config values and ignores empty ones", async () => {
  const files = { "/a.yaml": "verbose: true\n", "/b.yaml": "dryRun: true\n" };
  const { config } = await resolveConfig(
    fakeInputs({ files, configSources: ["", "/a.yaml, /b.yaml"] }),
  );
  assertEquals([config.verbose, config.dryRun], [true, true]);
});

Deno.test("resolveConfig() reads - from stdin, between files in order", async () => {
  const files = { "/a.yaml": "wait: 1\nwaitInterval: 7\n", "/b.yaml": "wait: 3\n" };
  const stdin = "wait: 2\nretry:\n  maxRetries: 9\n";
  const { config, origins } = await resolveConfig(
    fakeInputs({ files, stdin, configSources: ["/a.yaml", "-"] }),
  );
  assertEquals([config.wait, config.waitInterval, config.retry.maxRetries], [2, 7, 9]);
  assertEquals(origins["wait"], "stdin:1:7");
  const later = await resolveConfig(
    fakeInputs({ files, stdin, configSources: ["-", "/b.yaml"] }),
  );
  assertEquals(later.config.wait, 3);
});

Deno.test("resolveConfig() reads kumactl JSON config with nanosecond durations", async () => {
  const json = JSON.stringify(
    {
      kumaDPUser: "5678",
      ipFamilyMode: "IPv4",
      redirect: {
        outbound: { excludePorts: "53,8080", excludePortsForIPs: ["10.0.0.0/8,192.168.0.1"] },
        vnet: { networks: ["docker0:172.17.0.0/16"] },
      },
      retry: { sleepBetweenRetries: 1500000000 },
      iptablesExecutables: { "iptables-save": "/usr/sbin/iptables-nft-save" },
    },
    null,
    2,
  );
  const { config, origins } = await resolveConfig(
    fakeInputs({ files: { "/tp.json": json }, configSources: ["/tp.json"] }),
  );
  assertEquals(config.ipFamilyMode, "ipv4");
  assertEquals(config.redirect.outbound.excludePorts, [53, 8080]);
  assertEquals(
    config.redirect.outbound.excludePortsForIPs,
    ["10.0.0.0/8", "192.168.0.1"].map(parseIpOrCidr),
  );
  assertEquals(config.retry.sleepBetweenRetries, 1500);
  assertEquals(config.iptablesExecutables, { "iptables-save": "/usr/sbin/iptables-nft-save" });
  assert(origins["retry.sleepBetweenRetries"].startsWith("file:/tp.json:"));
});

Deno.test("resolveConfig() normalises ipFamilyMode case and empty (kumactl K8.3)", async () => {
  for (const [given, want] of [["IPv4", "ipv4"], ["", "dualstack"], ["DualStack", "dualstack"]]) {
    const { config } = await resolveConfig(
      fakeInputs({ env: { KUMA_TRANSPARENT_PROXY_IP_FAMILY_MODE: given } }),
    );
    assertEquals(config.ipFamilyMode, want);
  }
});

Deno.test("resolveConfig() reads backend from YAML, env and flag, flag winning, case-insensitive", async () => {
  const files = { "/tp.yaml": "backend: nftables\n" };
  const file = await resolveConfig(fakeInputs({ files, configSources: ["/tp.yaml"] }));
  assertEquals(file.config.backend, "nftables");
  assertEquals(file.origins["backend"], "file:/tp.yaml:1:10");
  const env = await resolveConfig(
    fakeInputs({ env: { KUMA_TRANSPARENT_PROXY_BACKEND: "NFTables" } }),
  );
  assertEquals(env.config.backend, "nftables");
  assertEquals(env.origins["backend"], "env:KUMA_TRANSPARENT_PROXY_BACKEND");
  const flagged = await resolveConfig(fakeInputs({
    env: { KUMA_TRANSPARENT_PROXY_BACKEND: "nftables" },
    flags: [flag("--backend", "backend", "iptables")],
  }));
  assertEquals(flagged.config.backend, "iptables");
  assertEquals(flagged.origins["backend"], "flag:--backend");
  assertEquals((await resolveConfig(fakeInputs())).config.backend, "iptables");
  const explained = renderExplain(flagged);
  assert(explained.includes("backend: iptables  (flag:--backend)\n"), explained);
});

Deno.test("resolveConfig() reads every env var form: lists, UIDs with ;, executables, chains", async () => {
  const { config, origins } = await resolveConfig(fakeInputs({
    env: {
      KUMA_TRANSPARENT_PROXY_REDIRECT_DNS_CAPTURE_ALL: "true",
      KUMA_TRANSPARENT_PROXY_KUMA_DP_USER: "kuma",
      KUMA_TRANSPARENT_PROXY_REDIRECT_INBOUND_EXCLUDE_PORTS: "22, 80",
      KUMA_TRANSPARENT_PROXY_REDIRECT_OUTBOUND_EXCLUDE_PORTS_FOR_UIDS: "tcp:80,443:1000;udp:53:0",
      KUMA_TRANSPARENT_PROXY_REDIRECT_OUTBOUND_EXCLUDE_PORTS_FOR_IPS: "10.0.0.1,fd00::/8",
      KUMA_TRANSPARENT_PROXY_RETRY_SLEEP_BETWEEN_RETRIES: "1m30s",
      KUMA_TRANSPARENT_PROXY_IPTABLES_EXECUTABLES: "iptables:/a,ip6tables:/b",
      KUMA_TRANSPARENT_PROXY_REDIRECT_INBOUND_CHAIN_NAME: "IN",
      KUMA_TRANSPARENT_PROXY_REDIRECT_OUTBOUND_REDIRECT_CHAIN_NAME: "OUT_R",
      KUMA_TRANSPARENT_PROXY_REDIRECT_VNET_NETWORKS: "br+:10.1.0.0/16,docker0:fd00::/64",
      PATH: "/usr/bin",
    },
  }));
  assertEquals(config.kumaDPUser, "kuma");
  assertEquals(config.redirect.inbound.excludePorts, [22, 80]);
  assertEquals(
    config.redirect.outbound.excludePortsForUIDs,
    ["tcp:80,443:1000", "udp:53:0"].map(parseUidExclusion),
  );
  assertEquals(
    config.redirect.outbound.excludePortsForIPs,
    ["10.0.0.1", "fd00::/8"].map(parseIpOrCidr),
  );
  assertEquals(config.retry.sleepBetweenRetries, 90_000);
  assertEquals(config.iptablesExecutables, { iptables: "/a", ip6tables: "/b" });
  assertEquals(config.redirect.inbound.chainName, "IN");
  assertEquals(config.redirect.outbound.redirectChainName, "OUT_R");
  assertEquals(
    config.redirect.vnet.networks,
    ["br+:10.1.0.0/16", "docker0:fd00::/64"].map(parseVnet),
  );
  // captureAll forces DNS redirection on, and says why.
  assertEquals(config.redirect.dns.enabled, true);
  assertEquals(
    origins["redirect.dns.enabled"],
    "env:KUMA_TRANSPARENT_PROXY_REDIRECT_DNS_CAPTURE_ALL",
  );
  assertEquals(
    origins["iptablesExecutables.iptables"],
    "env:KUMA_TRANSPARENT_PROXY_IPTABLES_EXECUTABLES",
  );
});

Deno.test("resolveConfig() splits env UID exclusions on commas when no ; is present", async () => {
  const { config } = await resolveConfig(fakeInputs({
    env: { KUMA_TRANSPARENT_PROXY_REDIRECT_OUTBOUND_EXCLUDE_PORTS_FOR_UIDS: "1000,udp:53:0" },
  }));
  assertEquals(
    config.redirect.outbound.excludePortsForUIDs,
    ["1000", "udp:53:0"].map(parseUidExclusion),
  );
});

Deno.test("resolveConfig() reads flags: bool values, repeatable lists and kumactl durations", async () => {
  const { config, origins } = await resolveConfig(fakeInputs({
    flags: [
      flag("--redirect-inbound", "redirect.inbound.enabled", "false"),
      flag("--redirect-dns", "redirect.dns.enabled", true),
      flag("--exclude-outbound-ips", "redirect.outbound.excludePortsForIPs", [
        "10.0.0.1,::1",
        "1.2.3.4",
      ]),
      flag("--exclude-outbound-ports-for-uids", "redirect.outbound.excludePortsForUIDs", [
        "1000",
        "tcp:80,443:1001",
      ]),
      flag("--sleep-between-retries", "retry.sleepBetweenRetries", '"3s"'),
      flag("--iptables-executables", "iptablesExecutables", "iptables-restore:/x"),
    ],
  }));
  assertEquals(config.redirect.inbound.enabled, false);
  assertEquals(config.redirect.dns.enabled, true);
  assertEquals(
    config.redirect.outbound.excludePortsForIPs,
    ["10.0.0.1", "::1", "1.2.3.4"].map(parseIpOrCidr),
  );
  assertEquals(
    config.redirect.outbound.excludePortsForUIDs,
    ["1000", "tcp:80,443:1001"].map(parseUidExclusion),
  );
  assertEquals(config.retry.sleepBetweenRetries, 3000);
  assertEquals(config.iptablesExecutables, { "iptables-restore": "/x" });
  assertEquals(origins["redirect.inbound.enabled"], "flag:--redirect-inbound");
});

Deno.test("resolveConfig() suggests the right key for a typo", async () => {
  const e = await assertRejects(
    () =>
      resolveConfig(fakeInputs({
        files: { "/tp.yaml": "redirect:\n  dns:\n    prot: 53\n" },
        configSources: ["/tp.yaml"],
      })),
    ConfigError,
  );
  assertEquals([e.code, e.path, e.source], [
    "unknown_key",
    "redirect.dns.prot",
    "file:/tp.yaml:3:5",
  ]);
  assert(e.message.includes("`redirect.dns.port`"), e.message);
  const env = await assertRejects(
    () => resolveConfig(fakeInputs({ env: { KUMA_TRANSPARENT_PROXY_REDIRECT_DNS_PROT: "53" } })),
    ConfigError,
  );
  assertEquals(env.code, "unknown_key");
  assert(env.message.includes("`KUMA_TRANSPARENT_PROXY_REDIRECT_DNS_PORT`"), env.message);
});

Deno.test("resolveConfig() reports every problem at once", async () => {
  const e = await assertRejects(
    () =>
      resolveConfig(fakeInputs({
        env: { [DNS_PORT_ENV]: "0", KUMA_TRANSPARENT_PROXY_WAIT: "-1" },
      })),
    ConfigError,
  );
  assertEquals(e.errors.map((x) => x.path).sort(), ["redirect.dns.port", "wait"]);
});

Deno.test("renderConfigYaml() output read back as a file gives the same config", async () => {
  const { config } = await resolveConfig(fakeInputs({
    env: {
      KUMA_TRANSPARENT_PROXY_REDIRECT_OUTBOUND_EXCLUDE_PORTS_FOR_UIDS: "tcp:80,443:1000;udp:53:0",
      KUMA_TRANSPARENT_PROXY_REDIRECT_OUTBOUND_EXCLUDE_PORTS_FOR_IPS: "10.0.0.1,fd00::/8",
      KUMA_TRANSPARENT_PROXY_REDIRECT_VNET_NETWORKS: "docker0:fd00::/64",
      KUMA_TRANSPARENT_PROXY_RETRY_SLEEP_BETWEEN_RETRIES: "1m30s",
      KUMA_TRANSPARENT_PROXY_IPTABLES_EXECUTABLES: "iptables:/a",
      KUMA_TRANSPARENT_PROXY_KUMA_DP_USER: "5678",
      KUMA_TRANSPARENT_PROXY_REDIRECT_DNS_CAPTURE_ALL: "1",
      KUMA_TRANSPARENT_PROXY_REDIRECT_INBOUND_INCLUDE_PORTS: "8080",
    },
  }));
  const yaml = renderConfigYaml(config);
  const again = await resolveConfig(
    fakeInputs({ files: { "/out.yaml": yaml }, configSources: ["/out.yaml"] }),
  );
  assertEquals(again.config, config);
  assertEquals(again.config.kumaDPUser, "5678");
});

Deno.test("renderExplain() names each setting's value and origin", async () => {
  const resolved = await resolveConfig(fakeInputs({
    files: { "/tp.yaml": "verbose: true\n" },
    configSources: ["/tp.yaml"],
    flags: [flag("--exclude-inbound-ports", "redirect.inbound.excludePorts", "22,80")],
  }));
  const lines = renderExplain(resolved).split("\n");
  assert(lines.includes("verbose: true  (file:/tp.yaml:1:10)"), lines.join("\n"));
  assert(lines.includes("redirect.inbound.excludePorts: [22, 80]  (flag:--exclude-inbound-ports)"));
  assert(lines.includes("redirect.dns.port: 15053  (default)"));
});

Deno.test("resolveConfig() with lenient turns unknown keys and variables into warnings, keeping the rest", async () => {
  const files = { "/tp.yaml": "wait: 9\nredirect:\n  inbound:\n    excludPorts: [22]\n" };
  const inputs = () =>
    fakeInputs({
      files,
      configSources: ["/tp.yaml"],
      env: { KUMA_TRANSPARENT_PROXY_TYPO: "1", [DNS_PORT_ENV]: "5353" },
    });
  const strict = await assertRejects(() => resolveConfig(inputs()), ConfigError);
  assertEquals(strict.code, "unknown_key");

  const { config, warnings } = await resolveConfig(inputs(), { lenient: true });
  assertEquals(config.wait, 9);
  assertEquals(config.redirect.dns.port, 5353);
  assertEquals(warnings?.length, 2);
  assert(warnings![0].includes("redirect.inbound.excludPorts"), warnings![0]);
  assert(warnings![1].includes("KUMA_TRANSPARENT_PROXY_TYPO"), warnings![1]);

  // Only unknown keys are forgiven: a bad value still fails.
  await assertRejects(
    () => resolveConfig(fakeInputs({ env: { [DNS_PORT_ENV]: "70000" } }), { lenient: true }),
    ConfigError,
  );
});

Deno.test("resolveConfig() parses once: config holds structured values and config prints them back re-readable", async () => {
  const yaml = [
    "redirect:",
    "  outbound:",
    "    excludePortsForIPs: ['10.0.0.1, fd00::/8']",
    "    excludePortsForUIDs: ['*:*:1000', 'udp::53']",
    "  vnet:",
    "    networks: [' docker0:172.17.0.0/16']",
    "retry:",
    "  sleepBetweenRetries: 1m30s",
    "",
  ].join("\n");
  const first = await resolveConfig(
    fakeInputs({ files: { "/tp.yaml": yaml }, configSources: ["/tp.yaml"] }),
  );
  const { outbound } = first.config.redirect;
  assertEquals(outbound.excludePortsForIPs, [
    { text: "10.0.0.1", family: 4 },
    { text: "fd00::/8", family: 6 },
  ]);
  assertEquals(outbound.excludePortsForUIDs[1], {
    protocols: ["udp"],
    ports: [{ from: 1, to: 65535 }],
    uids: { from: 53, to: 53 },
  });
  assertEquals(first.config.redirect.vnet.networks, [
    { iface: "docker0", cidr: { text: "172.17.0.0/16", family: 4 } },
  ]);
  assertEquals(first.config.retry.sleepBetweenRetries, 90_000);
  const printed = renderConfigYaml(first.config);
  for (
    const line of [
      '- "1000"',
      "- udp:*:53",
      "- docker0:172.17.0.0/16",
      "sleepBetweenRetries: 1m30s",
    ]
  ) {
    assert(printed.includes(line), printed);
  }
  const again = await resolveConfig(
    fakeInputs({ files: { "/again.yaml": printed }, configSources: ["/again.yaml"] }),
  );
  assertEquals(again.config, first.config);
  assert(
    renderExplain(again).includes(
      "redirect.outbound.excludePortsForUIDs: [1000, udp:*:53]  (file:",
    ),
    renderExplain(again),
  );
});

Deno.test("the schema parses without zod's per-schema code generation (start-up, issue 11)", async () => {
  const { z } = await import("zod");
  await import("../../../src/config/schema.ts");
  assertEquals(z.config().jitless, true);
});
