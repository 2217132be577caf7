import { assert, assertEquals, assertThrows } from "../../assert.ts";
import { defaultConfig } from "../../../src/config/defaults.ts";
import { FULL_FUNCTIONALITY } from "../../../src/rules/facts.ts";
import { buildRuleSet } from "../../../src/rules/build.ts";
import { appendRule } from "../../../src/rules/rule.ts";
import {
  conntrackState,
  conntrackZone,
  destination,
  inInterface,
  jump,
  log,
  multiportDestinationPorts,
  protocol,
  uidOwner,
} from "../../../src/rules/params.ts";
import { ruleStatement } from "../../../src/nftables/translate.ts";
import {
  NFT_MAX_COMMENT_BYTES,
  NFT_PRIORITY,
  nftComment,
  nftOptionsFor,
  renderNftTable,
} from "../../../src/nftables/script.ts";
import { NftBuildError } from "../../../src/nftables/errors.ts";
import type { Config } from "../../../src/config/types.ts";
import { parseIpOrCidr } from "../../../src/config/values.ts";

const rule = (params: Parameters<typeof appendRule>[2]) => appendRule("OUTPUT", "x", params);

Deno.test("ruleStatement() spells each iptables option in nft", () => {
  assertEquals(
    ruleStatement(
      rule([
        protocol("tcp"),
        multiportDestinationPorts("80,90:100"),
        uidOwner("1:2"),
        jump("RETURN"),
      ]),
      4,
    ),
    "meta nfproto ipv4 tcp dport { 80, 90-100 } meta skuid 1-2 return",
  );
  assertEquals(
    ruleStatement(
      rule([
        destination("fd00::/8", true),
        inInterface("br+"),
        protocol("tcp"),
        jump("KUMA_MESH_X"),
      ]),
      6,
    ),
    'ip6 daddr != fd00::/8 iifname "br*" meta l4proto tcp jump KUMA_MESH_X',
  );
  assertEquals(
    ruleStatement(rule([conntrackState("INVALID"), jump("DROP")]), 4),
    "meta nfproto ipv4 ct state invalid drop",
  );
  assertEquals(
    ruleStatement(rule([protocol("udp"), conntrackZone(2)]), 6),
    "meta nfproto ipv6 meta l4proto udp ct zone set 2",
  );
  assertEquals(
    ruleStatement(rule([log("OUTPUT:", 4)]), 4),
    'meta nfproto ipv4 log prefix "OUTPUT:" level warn',
  );
  // Docker's chain lives in another table; its own hook still runs.
  assertEquals(ruleStatement(rule([jump("DOCKER_OUTPUT")]), 4), "meta nfproto ipv4 return");
});

Deno.test("ruleStatement() rejects what it cannot translate instead of guessing", () => {
  assertThrows(() => ruleStatement(rule([[{ name: "tos", value: "1" }]]), 4), NftBuildError);
  assertThrows(
    () => ruleStatement(rule([[{ name: "destination-port", value: "1" }]]), 4),
    NftBuildError,
  );
  assertThrows(() => ruleStatement(rule([log("X", 9)]), 4), NftBuildError);
});

Deno.test("nftComment() keeps the prefix and cuts at a word to what nftables stores", () => {
  const short = nftComment("return early");
  assertEquals(short, "kuma/mesh/transparent/proxy/return early");
  const long = nftComment("word ".repeat(40));
  assert(long.length <= NFT_MAX_COMMENT_BYTES, long);
  assert(long.startsWith("kuma/mesh/transparent/proxy/word word"));
  assert(!long.endsWith(" "));
});

function table(mutate: (c: Config) => void, families: (4 | 6)[] = [4, 6]): string {
  const config = defaultConfig();
  mutate(config);
  const ruleSets = families.map((family) =>
    buildRuleSet(config, {
      family,
      uid: 5678,
      loopback: "lo",
      nameservers: [],
      functionality: FULL_FUNCTIONALITY,
    }).ruleSet
  );
  return renderNftTable(ruleSets, nftOptionsFor(config));
}

Deno.test("renderNftTable() folds 1,000 excluded CIDRs into one set lookup per family", () => {
  const ips = Array.from({ length: 1000 }, (_, i) => `10.${i >> 8}.${i & 255}.0/24`);
  const text = table((
    c,
  ) => (c.redirect.outbound.excludePortsForIPs = [...ips, "fd00::/8"].map(parseIpOrCidr)));
  const lookups = text.split("\n").filter((l) => l.includes("@outbound_exclude_ips"));
  assertEquals(lookups.map((l) => l.trim().split(" comment")[0]), [
    "ip daddr @outbound_exclude_ips_ipv4 return",
    "ip6 daddr @outbound_exclude_ips_ipv6 return",
  ]);
  assert(text.includes(`elements = { ${ips.join(", ")} }`));
  assertEquals(text.split("\n").length, table(() => {}).split("\n").length + 14);
});

Deno.test("renderNftTable() puts the nat chains before or after iptables' by insertRedirectInsteadOfAppend", () => {
  const prio = (text: string, hook: string) =>
    text.match(new RegExp(`hook ${hook} priority (-?\\d+)`))?.[1];
  const plain = table(() => {});
  assertEquals(prio(plain, "prerouting"), String(NFT_PRIORITY.natAppend));
  const inbound = table((c) => (c.redirect.inbound.insertRedirectInsteadOfAppend = true));
  assertEquals(prio(inbound, "prerouting"), String(NFT_PRIORITY.natInsert));
  assertEquals(prio(inbound, "output"), String(NFT_PRIORITY.natAppend));
  assert(NFT_PRIORITY.natInsert < -100 && NFT_PRIORITY.natAppend > -90);
});

Deno.test("renderNftTable() with ipFamilyMode ipv4 has no IPv6 rule", () => {
  const text = table(() => {}, [4]);
  assert(!text.includes("ipv6") && !text.includes("ip6 "), text);
  assert(text.includes("meta nfproto ipv4"));
});

Deno.test("renderNftTable() gives every rule our comment", () => {
  const text = table((c) => {
    c.redirect.outbound.excludePorts = [22];
    c.log.enabled = true;
    c.dropInvalidPackets = true;
  });
  const rules = text.split("\n").filter((l) =>
    l.startsWith("\t\t") && !/^\t\t(type|flags|auto-merge|elements)/.test(l)
  );
  assert(rules.length > 20);
  for (const r of rules) assert(/ comment "kuma\/mesh\/transparent\/proxy\/[^"]+"$/.test(r), r);
});

Deno.test("renderNftTable() drops CIDRs inside another one, so the set needs no auto-merge", () => {
  const text = table((c) => {
    c.redirect.outbound.excludePortsForIPs = [
      "10.1.0.0/16",
      "10.0.0.0/8",
      "10.0.0.1",
      "fd00::1/64",
    ].map(parseIpOrCidr);
  });
  assert(text.includes("elements = { 10.0.0.0/8 }"), text);
  assert(text.includes("elements = { fd00::/64 }"), text);
  assert(!text.includes("auto-merge"));
});

Deno.test("ruleStatement() spells iptables' bare + interface (every interface) as no match at all", () => {
  // nft refuses an all-wildcard name: "All-wildcard strings are not supported".
  assertEquals(
    ruleStatement(rule([inInterface("+"), protocol("tcp"), jump("KUMA_MESH_X")]), 4),
    "meta nfproto ipv4 meta l4proto tcp jump KUMA_MESH_X",
  );
  const e = assertThrows(
    () =>
      ruleStatement(
        rule([[{ name: "in-interface", value: "+", negate: true }], jump("RETURN")]),
        4,
      ),
    NftBuildError,
  );
  assert((e as Error).message.includes("matches no interface"), (e as Error).message);
});
