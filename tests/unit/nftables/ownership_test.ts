import { assert, assertEquals } from "../../assert.ts";
import { liveLines, parseNftJson, UNREADABLE_FLAGS } from "../../../src/nftables/state.ts";
import {
  foreignObjects,
  isOurChain,
  isOurSet,
  notOursBecause,
  tableNotOurs,
} from "../../../src/nftables/ownership.ts";
import { nftExpectedForCase } from "./helpers.ts";

/** `nft -j list table inet kuma_mesh_transparent_proxy` of a case's script, recorded with nft 1.0.6. */
const RECORDED = Deno.readTextFileSync(
  new URL("../../testdata/nftables/with-multiple-flags.json", import.meta.url),
);
const T = "inet kuma_mesh_transparent_proxy";

/** The recorded table with extra libnftables-json items added after it. */
function tampered(...items: Record<string, unknown>[]) {
  const doc = JSON.parse(RECORDED);
  const table = { family: "inet", table: "kuma_mesh_transparent_proxy" };
  for (const item of items) {
    const [kind] = Object.keys(item);
    doc.nftables.push({ [kind]: { ...table, ...(item[kind] as object) } });
  }
  return parseNftJson(JSON.stringify(doc))[0];
}

Deno.test("ownership: every object of a recorded table of ours is ours", () => {
  const [table] = parseNftJson(RECORDED);
  assertEquals(foreignObjects(table), []);
  assert(table.chains.every(isOurChain) && table.sets.every(isOurSet));
});

Deno.test("ownership: a chain is ours by our name, and a base chain also by our type, hook and priority", () => {
  assert(isOurChain({ name: "KUMA_MESH_X" }));
  assert(!isOurChain({ name: "KUMA_MESH_" }) && !isOurChain({ name: "admin" }));
  const natOut = { name: "nat_output", type: "nat", hook: "output", prio: -80, policy: "drop" };
  assert(isOurChain(natOut), "a policy is drift, not another owner");
  assert(isOurChain({ ...natOut, prio: -110 }));
  assert(!isOurChain({ ...natOut, prio: 0 }));
  assert(!isOurChain({ ...natOut, type: "filter" }));
  assert(!isOurChain({ ...natOut, name: "filter_output" }));
  assert(!isOurChain({ ...natOut, name: "KUMA_MESH_OUT" }), "we write no KUMA_MESH_ base chain");
  assert(!isOurChain({ name: "nat_output" }), "our base chain name on a regular chain");
});

Deno.test("ownership: a set is ours by one of our names with our type", () => {
  assert(isOurSet({ name: "outbound_exclude_ips_ipv6", type: "ipv6_addr", elements: [] }));
  assert(isOurSet({ name: "inbound_include_ports", type: "inet_service", elements: [] }));
  assert(!isOurSet({ name: "outbound_exclude_ips_ipv6", type: "ipv4_addr", elements: [] }));
  assert(!isOurSet({ name: "blocked", type: "ipv4_addr", elements: [] }));
});

Deno.test("ownership: an admin's chain, base chain, set, rule and other objects are named with how to delete them", () => {
  const table = tampered(
    { chain: { name: "admin_chain", handle: 90 } },
    {
      chain: {
        name: "admin_out",
        handle: 91,
        type: "filter",
        hook: "output",
        prio: 0,
        policy: "drop",
      },
    },
    { set: { name: "admin_set", type: "ipv4_addr", handle: 92 } },
    { rule: { chain: "KUMA_MESH_OUTBOUND", handle: 93, expr: [] } },
    { rule: { chain: "admin_chain", handle: 94, expr: [] } },
    { counter: { name: "admin_counter", handle: 95 } },
  );
  assertEquals(tableNotOurs(table), undefined);
  assertEquals(foreignObjects(table), [
    {
      name: "chain admin_chain (1 rules)",
      remove: `nft flush chain ${T} admin_chain; nft delete chain ${T} admin_chain`,
    },
    {
      name: "chain admin_out (type filter hook output priority 0 policy drop, no rules)",
      remove: `nft flush chain ${T} admin_out; nft delete chain ${T} admin_out`,
    },
    {
      name: "rule handle 93 in KUMA_MESH_OUTBOUND (no comment)",
      remove: `nft delete rule ${T} KUMA_MESH_OUTBOUND handle 93`,
    },
    { name: "set admin_set (type ipv4_addr)", remove: `nft delete set ${T} admin_set` },
    { name: "counter admin_counter", remove: `nft delete counter ${T} admin_counter` },
  ]);
  const why = notOursBecause(table)!;
  assert(why.includes("1 of its rules (in KUMA_MESH_OUTBOUND) do not carry our comment"), why);
  assert(why.includes("it holds what kuma-tproxy did not write: chain admin_chain"), why);
});

Deno.test("liveLines(): the table's flags, policies, foreign rules, empty chains and other objects differ from the plan", async () => {
  const expected = await nftExpectedForCase("with-multiple-flags");
  const [pristine] = parseNftJson(RECORDED);
  const table = tampered(
    {
      chain: {
        name: "admin_out",
        handle: 91,
        type: "filter",
        hook: "output",
        prio: 0,
        policy: "drop",
      },
    },
    { rule: { chain: "KUMA_MESH_OUTBOUND", handle: 93, expr: [] } },
    { counter: { name: "admin_counter", handle: 95 } },
  );
  table.flags = ["dormant"];
  table.chains.find((c) => c.name === "nat_output")!.policy = "drop";
  const live = liveLines(table);
  for (const family of [4, 6] as const) {
    const lines = live.get(family)!;
    assertEquals(lines.get("table"), ["flags dormant"]);
    assertEquals(lines.get("chain admin_out"), [
      "type filter hook output priority 0 policy drop",
      "(no rules)",
    ]);
    assertEquals(lines.get("counter admin_counter"), ["not written by kuma-tproxy"]);
    assertEquals(
      lines.get("chain KUMA_MESH_OUTBOUND")?.at(-1),
      "not ours: rule handle 93 (no comment)",
    );
    assertEquals(
      lines.get("chain nat_output")?.[0],
      "type nat hook output priority -80 policy drop",
    );
    assertEquals(
      expected.get(family)!.get("chain nat_output")?.[0],
      "type nat hook output priority -80 policy accept",
    );
  }
  assertEquals(liveLines(pristine), expected);
});

Deno.test("liveLines(): what belongs to no family goes to the planned families when the table has no rules", () => {
  const [table] = parseNftJson(RECORDED);
  const empty = { ...table, rules: [], sets: [] };
  assertEquals([...liveLines(empty, [4]).keys()], [4]);
  assertEquals(liveLines(empty, [4]).get(4)?.get("chain nat_output")?.at(-1), "(no rules)");
});

Deno.test("parseNftJson(): table flags, also as nft 1.0.6 garbles them in JSON", () => {
  const doc = (flags: unknown) =>
    JSON.stringify({ nftables: [{ table: { family: "inet", name: "t", handle: 1, flags } }] });
  assertEquals(parseNftJson(doc("dormant"))[0].flags, ["dormant"]);
  assertEquals(parseNftJson(doc(["dormant", "owner"]))[0].flags, ["dormant", "owner"]);
  assertEquals(parseNftJson(doc("Lester Gooch #5"))[0].flags, [UNREADABLE_FLAGS]);
  assertEquals(parseNftJson(doc(undefined))[0].flags, undefined);
});
