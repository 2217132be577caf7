import { buildContext } from "../../../src/rules/context.ts";
import { buildNatTable, multiportChunks } from "../../../src/rules/nat_table.ts";
import type { Config } from "../../../src/config/types.ts";
import type { BuildFacts } from "../../../src/rules/facts.ts";
import { assert, assertEquals } from "../../assert.ts";
import { config, effectiveSpecs, facts, functionality } from "./helpers.ts";
import { parseIpOrCidr, parseUidExclusion, parseVnet } from "../../../src/config/values.ts";

function nat(c: Config, f: BuildFacts) {
  return buildNatTable(buildContext(c, f).context);
}

const dns = config((c) => {
  c.redirect.dns.enabled = true;
});

Deno.test("buildNatTable() inserts DNS redirects before the TCP jump", () => {
  const t = nat(dns, facts(4, { nameservers: ["10.0.0.2", "10.0.0.3"] }));
  assertEquals(effectiveSpecs(t, "OUTPUT"), [
    "-p udp --dport 53 -m owner --uid-owner 5678 -j RETURN",
    "-d 10.0.0.2 -p udp --dport 53 -j REDIRECT --to-ports 15053",
    "-d 10.0.0.3 -p udp --dport 53 -j REDIRECT --to-ports 15053",
    "-p tcp --dport 53 -m owner ! --uid-owner 5678 -j RETURN",
    "-p tcp -j KUMA_MESH_OUTBOUND",
  ]);
});

Deno.test("buildNatTable() redirects all UDP/53 with captureAll and ignores the resolvers", () => {
  const c = config((c) => {
    c.redirect.dns.enabled = true;
    c.redirect.dns.captureAll = true;
  });
  const specs = effectiveSpecs(nat(c, facts(6, { nameservers: ["fd00::53"] })), "OUTPUT");
  assert(specs.includes("-p udp --dport 53 -j REDIRECT --to-ports 15053"));
  assert(!specs.some((s) => s.includes("fd00::53")));
});

Deno.test("buildNatTable() sends kuma-dp DNS to DOCKER_OUTPUT when that chain exists", () => {
  const f = facts(4, { functionality: functionality((f) => (f.dockerOutput = true)) });
  const t = nat(dns, f);
  const first = t.rules.find((r) => r.chain === "OUTPUT")!;
  assertEquals(first.comment, "redirect DNS traffic from kuma-dp to the DOCKER_OUTPUT chain");
  assertEquals(
    effectiveSpecs(t, "OUTPUT")[0],
    "-p udp --dport 53 -m owner --uid-owner 5678 -j DOCKER_OUTPUT",
  );
});

Deno.test("buildNatTable() has no DNS rules for IPv6 without IPv6 resolvers", () => {
  const specs = effectiveSpecs(nat(dns, facts(6, { nameservers: [] })), "OUTPUT");
  assertEquals(specs, ["-p tcp -j KUMA_MESH_OUTBOUND"]);
});

Deno.test("buildNatTable() inserts the LOG rules first in PREROUTING and OUTPUT (K8.6 fix)", () => {
  const c = config((c) => {
    c.log.enabled = true;
    c.log.level = 4;
    c.redirect.inbound.insertRedirectInsteadOfAppend = true;
    c.redirect.vnet.networks = ["docker0:172.17.0.0/16"].map(parseVnet);
  });
  const t = nat(c, facts(4));
  assertEquals(effectiveSpecs(t, "PREROUTING")[0], "-j LOG --log-prefix PREROUTING: --log-level 4");
  assertEquals(effectiveSpecs(t, "OUTPUT")[0], "-j LOG --log-prefix OUTPUT: --log-level 4");
  assert(t.rules.filter((r) => r.chain === "PREROUTING").every((r) => r.insert));
});

Deno.test("buildNatTable() adds vnet DNS rules only when DNS redirect is on (K8.6 fix)", () => {
  const vnet = (dnsOn: boolean) =>
    config((c) => {
      c.redirect.dns.enabled = dnsOn;
      c.redirect.vnet.networks = ["docker0:172.17.0.0/16"].map(parseVnet);
    });
  const off = effectiveSpecs(nat(vnet(false), facts(4)), "PREROUTING");
  const on = effectiveSpecs(nat(vnet(true), facts(4)), "PREROUTING");
  assertEquals(off, [
    "! -d 172.17.0.0/16 -i docker0 -p tcp -j REDIRECT --to-ports 15001",
    "-p tcp -j KUMA_MESH_INBOUND",
  ]);
  assertEquals(on[0], "-i docker0 -p udp --dport 53 -j REDIRECT --to-ports 15053");
  assertEquals(on.length, 3);
});

Deno.test("buildNatTable() writes vnet rules per family, sorted by interface", () => {
  const c = config((c) => {
    c.redirect.vnet.networks = ["eth1:10.1.0.0/16", "br+:fd00:1::/64", "docker0:172.17.0.0/16"].map(
      parseVnet,
    );
  });
  const ifaces = (family: 4 | 6) =>
    nat(c, facts(family)).rules
      .filter((r) => r.chain === "PREROUTING" && r.params.some((p) => p.name === "in-interface"))
      .map((r) => r.params.find((p) => p.name === "in-interface")!.value);
  assertEquals(ifaces(4), ["docker0", "eth1"]);
  assertEquals(ifaces(6), ["br+"]);
});

Deno.test("buildNatTable() inserts outbound UID exclusions, one per protocol, before IP exclusions", () => {
  const c = config((c) => {
    c.redirect.outbound.excludePortsForUIDs = ["53,3000-5000:106-108", "udp:*:1000"].map(
      parseUidExclusion,
    );
    c.redirect.outbound.excludePortsForIPs = ["10.0.0.1", "fd00::/8", "192.168.0.0/24"].map(
      parseIpOrCidr,
    );
  });
  const t = nat(c, facts(4));
  assertEquals(effectiveSpecs(t, "OUTPUT"), [
    "-p tcp -m multiport --dports 53,3000:5000 -m owner --uid-owner 106:108 -j RETURN",
    "-p udp -m multiport --dports 53,3000:5000 -m owner --uid-owner 106:108 -j RETURN",
    "-p udp -m multiport --dports 1:65535 -m owner --uid-owner 1000 -j RETURN",
    "-d 10.0.0.1 -j RETURN",
    "-d 192.168.0.0/24 -j RETURN",
    "-p tcp -j KUMA_MESH_OUTBOUND",
  ]);
  const v6 = effectiveSpecs(nat(c, facts(6)), "OUTPUT");
  assert(v6.includes("-d fd00::/8 -j RETURN"));
  assert(!v6.some((s) => s.includes("10.0.0.1")));
});

Deno.test("buildNatTable() puts inbound IP exclusions before port exclusions and the catch-all", () => {
  const c = config((c) => {
    c.redirect.inbound.excludePortsForIPs = ["192.168.0.1", "fe80::/10"].map(parseIpOrCidr);
    c.redirect.inbound.excludePorts = [22];
  });
  assertEquals(effectiveSpecs(nat(c, facts(4)), "KUMA_MESH_INBOUND"), [
    "-s 192.168.0.1 -j RETURN",
    "-p tcp --dport 22 -j RETURN",
    "-p tcp -j KUMA_MESH_INBOUND_REDIRECT",
  ]);
  assertEquals(effectiveSpecs(nat(c, facts(6)), "KUMA_MESH_INBOUND")[0], "-s fe80::/10 -j RETURN");
});

Deno.test("buildNatTable() redirects only include ports and then ignores exclude ports", () => {
  const c = config((c) => {
    c.redirect.inbound.includePorts = [8080];
    c.redirect.inbound.excludePorts = [22];
    c.redirect.outbound.includePorts = [443];
    c.redirect.outbound.excludePorts = [25];
  });
  const t = nat(c, facts(4));
  assertEquals(effectiveSpecs(t, "KUMA_MESH_INBOUND"), [
    "-p tcp --dport 8080 -j KUMA_MESH_INBOUND_REDIRECT",
  ]);
  const out = effectiveSpecs(t, "KUMA_MESH_OUTBOUND");
  assertEquals(out.at(-2), "-d 127.0.0.1/32 -j RETURN");
  assertEquals(out.at(-1), "-p tcp --dport 443 -j KUMA_MESH_OUTBOUND_REDIRECT");
  assert(!out.some((s) => s.includes("--dport 25")));
});

Deno.test("buildNatTable() keeps chains and jumps but returns early when a direction is disabled", () => {
  const c = config((c) => {
    c.redirect.inbound.enabled = false;
    c.redirect.outbound.enabled = false;
  });
  const t = nat(c, facts(4));
  assertEquals(t.chains.length, 4);
  assertEquals(effectiveSpecs(t, "KUMA_MESH_INBOUND"), ["-p tcp -j RETURN"]);
  assertEquals(effectiveSpecs(t, "KUMA_MESH_OUTBOUND"), ["-p tcp -j RETURN"]);
  assertEquals(effectiveSpecs(t, "PREROUTING"), ["-p tcp -j KUMA_MESH_INBOUND"]);
  assertEquals(effectiveSpecs(t, "OUTPUT"), ["-p tcp -j KUMA_MESH_OUTBOUND"]);
});

Deno.test("buildNatTable() inserts the jumps with insertRedirectInsteadOfAppend", () => {
  const c = config((c) => {
    c.redirect.dns.enabled = true;
    c.redirect.inbound.insertRedirectInsteadOfAppend = true;
    c.redirect.outbound.insertRedirectInsteadOfAppend = true;
  });
  const t = nat(c, facts(4));
  const pre = t.rules.filter((r) => r.chain === "PREROUTING");
  assertEquals(pre.map((r) => [r.insert, r.comment]), [
    [true, "redirect remaining TCP traffic to our custom chain for processing"],
  ]);
  // The inserted outbound jump lands before the appended TCP/53 RETURN.
  assertEquals(effectiveSpecs(t, "OUTPUT").slice(-2), [
    "-p tcp -j KUMA_MESH_OUTBOUND",
    "-p tcp --dport 53 -m owner ! --uid-owner 5678 -j RETURN",
  ]);
});

Deno.test("buildNatTable() uses the family's loopback addresses and the loopback interface name", () => {
  const out6 = effectiveSpecs(nat(config(), facts(6, { loopback: "lo0" })), "KUMA_MESH_OUTBOUND");
  assertEquals(out6, [
    "-s ::6/128 -o lo0 -j RETURN",
    "-p tcp -o lo0 ! -d ::1/128 -m owner --uid-owner 5678 -j KUMA_MESH_INBOUND_REDIRECT",
    "-p tcp -o lo0 -m owner ! --uid-owner 5678 -j RETURN",
    "-m owner --uid-owner 5678 -j RETURN",
    "-d ::1/128 -j RETURN",
    "-j KUMA_MESH_OUTBOUND_REDIRECT",
  ]);
  const out4 = effectiveSpecs(nat(config(), facts(4, { uid: 1234 })), "KUMA_MESH_OUTBOUND");
  assertEquals(out4[0], "-s 127.0.0.6/32 -o lo -j RETURN");
  assertEquals(out4[3], "-m owner --uid-owner 1234 -j RETURN");
});

Deno.test("buildNatTable() names chains KUMA_MESH_ plus the configured names and ports", () => {
  const c = config((c) => {
    c.redirect.inbound.chainName = "IN";
    c.redirect.outbound.redirectChainName = "OUT_REDIR";
    c.redirect.inbound.port = 25006;
  });
  const t = nat(c, facts(4));
  assertEquals(t.chains, [
    "KUMA_MESH_IN",
    "KUMA_MESH_OUTBOUND",
    "KUMA_MESH_INBOUND_REDIRECT",
    "KUMA_MESH_OUT_REDIR",
  ]);
  assertEquals(effectiveSpecs(t, "PREROUTING"), ["-p tcp -j KUMA_MESH_IN"]);
  assertEquals(effectiveSpecs(t, "KUMA_MESH_INBOUND_REDIRECT"), [
    "-p tcp -j REDIRECT --to-ports 25006",
  ]);
  assertEquals(effectiveSpecs(t, "KUMA_MESH_OUTBOUND").at(-1), "-j KUMA_MESH_OUT_REDIR");
});

Deno.test("multiportChunks() splits port lists at the 15 slots of xt_multiport", () => {
  const singles = Array.from({ length: 16 }, (_, i) => ({ from: i + 1, to: i + 1 }));
  const chunks = multiportChunks(singles);
  assertEquals(chunks.length, 2);
  assertEquals(chunks[1], "16");
  const ranges = Array.from({ length: 8 }, (_, i) => ({ from: i * 10 + 1, to: i * 10 + 5 }));
  assertEquals(multiportChunks(ranges).map((c) => c.split(",").length), [7, 1]);
  assertEquals(multiportChunks([{ from: 1, to: 65535 }]), ["1:65535"]);
});
