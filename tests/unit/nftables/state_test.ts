import { assert, assertEquals, assertThrows } from "../../assert.ts";
import { liveLines, parseNftJson, ruleFamily } from "../../../src/nftables/state.ts";
import { isOurComment, notOursBecause } from "../../../src/nftables/ownership.ts";
import { NftStateError } from "../../../src/nftables/errors.ts";
import { nftExpectedForCase } from "./helpers.ts";

/** `nft -j list table inet kuma_mesh_transparent_proxy` of the case's script, recorded with nft 1.0.6. */
const RECORDED = Deno.readTextFileSync(
  new URL("../../testdata/nftables/with-multiple-flags.json", import.meta.url),
);

Deno.test("liveLines() of recorded nft -j output equals what status expects of the case", async () => {
  const [table] = parseNftJson(RECORDED);
  assertEquals(notOursBecause(table), undefined);
  assertEquals(liveLines(table), await nftExpectedForCase("with-multiple-flags"));
});

Deno.test("parseNftJson() spells set elements as nft writes them: prefixes, hosts, ports", () => {
  const [table] = parseNftJson(RECORDED);
  const set = (name: string) => table.sets.find((s) => s.name === name)?.elements;
  assertEquals(set("outbound_exclude_ips_ipv4"), ["10.0.0.1", "192.168.0.0/24"]);
  assertEquals(set("inbound_exclude_ips_ipv4"), ["172.32.0.0/16", "192.168.0.1"]);
  assertEquals(set("outbound_exclude_ports"), ["1", "22", "333"]);
});

Deno.test("ruleFamily() reads meta nfproto and ip/ip6 payloads; a rule of neither serves both", () => {
  const [table] = parseNftJson(RECORDED);
  const families = new Set(table.rules.map(ruleFamily));
  assertEquals([...families].sort(), [4, 6]);
  assertEquals(ruleFamily({ chain: "c", expr: [] }), undefined);
});

Deno.test("notOursBecause() wants our name, our table comment where given, and our comment on every rule", () => {
  const [table] = parseNftJson(RECORDED);
  assertEquals(
    notOursBecause({ ...table, name: "kuma_mesh_transparent_proxyX" }),
    "it is not named like ours",
  );
  assertEquals(notOursBecause({ ...table, family: "ip" }), "it is not named like ours");
  assert(notOursBecause({ ...table, comment: "admin" })?.includes("comment"));
  assertEquals(notOursBecause({ ...table, comment: "kuma/mesh/transparent/proxy/t" }), undefined);
  const tampered = {
    ...table,
    rules: [...table.rules, { chain: "nat_output", comment: "kuma/mesh/transparent/proxyX admin" }],
  };
  assert(notOursBecause(tampered)?.includes("1 of its rules (in nat_output)"));
  assert(notOursBecause({ ...table, rules: [] })?.includes("no rules"));
  assert(!isOurComment(undefined) && !isOurComment("kuma/mesh/transparent/proxy"));
});

Deno.test("parseNftJson() refuses what is not libnftables JSON", () => {
  assertThrows(() => parseNftJson("table inet x {}"), NftStateError);
  assertThrows(() => parseNftJson('{"other": []}'), NftStateError);
  assertThrows(
    () => parseNftJson('{"nftables": [{"rule": {"family": "inet", "table": "t"}}]}'),
    NftStateError,
  );
});
