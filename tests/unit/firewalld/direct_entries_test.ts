import { assert, assertEquals } from "../../assert.ts";
import {
  type DirectEntry,
  type DirectRule,
  foreignJumpsOf,
  isOurEntry,
  sameEntry,
  toDirectEntries,
} from "../../../src/firewalld/direct_entries.ts";
import { dualStackRuleSets, natRuleSet, stubRuleArgs } from "./_fixtures.ts";

const rules = (entries: DirectEntry[], chain: string) =>
  entries.filter((e): e is DirectRule => e.kind === "rule" && e.chain === chain);

Deno.test("toDirectEntries() labels IPv4 entries ipv4 and IPv6 entries ipv6", () => {
  const entries = toDirectEntries(dualStackRuleSets(), { ruleArgs: stubRuleArgs });
  assertEquals(entries.length, 2 * (4 + 13));
  assertEquals(new Set(entries.slice(0, 17).map((e) => e.ipv)), new Set(["ipv4"]));
  assertEquals(new Set(entries.slice(17).map((e) => e.ipv)), new Set(["ipv6"]));
  assertEquals(
    entries.filter((e) => e.ipv === "ipv6" && e.kind === "rule")
      .some((e) => e.kind === "rule" && e.args.includes("::1/128")),
    true,
  );
});

Deno.test("toDirectEntries() puts chains first, then rules chain by chain", () => {
  const entries = toDirectEntries([natRuleSet(4)], { ruleArgs: stubRuleArgs });
  assertEquals(entries.slice(0, 4).map((e) => e.kind === "chain" && e.chain), [
    "KUMA_MESH_INBOUND",
    "KUMA_MESH_INBOUND_REDIRECT",
    "KUMA_MESH_OUTBOUND",
    "KUMA_MESH_OUTBOUND_REDIRECT",
  ]);
  const chainsOfRules = entries.slice(4).map((e) => e.kind === "rule" && e.chain);
  assertEquals([...new Set(chainsOfRules)], [
    "PREROUTING",
    "OUTPUT",
    "KUMA_MESH_INBOUND",
    "KUMA_MESH_INBOUND_REDIRECT",
    "KUMA_MESH_OUTBOUND",
    "KUMA_MESH_OUTBOUND_REDIRECT",
  ]);
});

Deno.test("toDirectEntries() orders inserted rules first with increasing priorities per chain", () => {
  const entries = toDirectEntries([natRuleSet(4)], { ruleArgs: stubRuleArgs });
  const output = rules(entries, "OUTPUT");
  assertEquals(output.map((r) => r.priority), [-1, 0]);
  assertEquals(output[0].args.slice(0, 4), ["-p", "udp", "--dport", "53"]);
  const outbound = rules(entries, "KUMA_MESH_OUTBOUND");
  assertEquals(outbound.map((r) => r.priority), [-1, 0, 1, 2, 3, 4, 5]);
  assertEquals(outbound[0].args.slice(0, 4), ["-p", "tcp", "--dport", "22"]);
  assertEquals(outbound[1].args.slice(0, 2), ["-s", "127.0.0.6/32"]);
  assertEquals(outbound[6].args.slice(0, 2), ["-j", "KUMA_MESH_OUTBOUND_REDIRECT"]);
});

Deno.test("toDirectEntries() passes verbose and comments through to the renderer", () => {
  const [first] = rules(
    toDirectEntries([natRuleSet(4)], { ruleArgs: stubRuleArgs, verbose: true, comments: false }),
    "PREROUTING",
  );
  assertEquals(first.args, ["--protocol", "tcp", "--jump", "KUMA_MESH_INBOUND"]);
});

Deno.test("isOurEntry() finds our chains, rules in them and tagged rules, not untagged jumps to our chains", () => {
  const r = (chain: string, args: string[]): DirectEntry => ({
    kind: "rule",
    ipv: "ipv4",
    table: "nat",
    chain,
    priority: 0,
    args,
  });
  const cases: [DirectEntry, boolean][] = [
    [{ kind: "chain", ipv: "ipv6", table: "nat", chain: "KUMA_MESH_OUTBOUND" }, true],
    [{ kind: "chain", ipv: "ipv4", table: "nat", chain: "KUMA_MESHY" }, false],
    [{ kind: "chain", ipv: "ipv4", table: "filter", chain: "OPS" }, false],
    [{ kind: "chain", ipv: "ipv4", table: "nat", chain: "KUMA_MESH" }, false],
    [r("KUMA_MESHY", ["-j", "RETURN"]), false],
    [r("OUTPUT", ["-p", "tcp", "-j", "KUMA_MESHY"]), false],
    [r("OUTPUT", ["-m", "comment", "--comment", "kuma/mesh/transparent/proxyX admin"]), false],
    [
      r("OUTPUT", ["-m", "comment", "--comment", "kuma/mesh/transparent/proxy", "-j", "ACCEPT"]),
      false,
    ],
    // Our tag as some other option's value is not a comment.
    [r("OUTPUT", ["-m", "string", "--string", "kuma/mesh/transparent/proxy/x"]), false],
    [r("KUMA_MESH_INBOUND", ["-j", "RETURN"]), true],
    [r("OUTPUT", ["-m", "comment", "--comment", "kuma/mesh/transparent/proxy/x y"]), true],
    // Someone else's rule that jumps to our chain stays theirs (issue 21 item 1).
    [r("OUTPUT", ["-p", "tcp", "--goto", "KUMA_MESH_OUTBOUND"]), false],
    [r("PREROUTING", ["-p", "tcp", "--dport", "28", "-j", "KUMA_MESH_INBOUND"]), false],
    [
      r("PREROUTING", [
        "-m",
        "comment",
        "--comment",
        "kuma/mesh/transparent/proxy/x",
        "-j",
        "KUMA_MESH_INBOUND",
      ]),
      true,
    ],
    [
      r("OUTPUT", ["-m", "comment", "--comment", "mentions KUMA_MESH_OUTBOUND", "-j", "ACCEPT"]),
      false,
    ],
    [r("INPUT", ["-j", "ACCEPT"]), false],
    [{ kind: "passthrough", ipv: "ipv4", args: ["-t", "nat", "-N", "KUMA_MESH_X"] }, false],
  ];
  for (const [entry, ours] of cases) assertEquals(isOurEntry(entry), ours, JSON.stringify(entry));
});

Deno.test("isOurEntry() holds for every generated entry when comments are on", () => {
  const entries = toDirectEntries(dualStackRuleSets(), { ruleArgs: stubRuleArgs });
  assert(entries.every(isOurEntry));
  const bare = toDirectEntries(dualStackRuleSets(), { ruleArgs: stubRuleArgs, comments: false });
  // Without comments the rules outside our chains (per family the jumps from
  // PREROUTING and OUTPUT, and the inserted DNS RETURN in OUTPUT) cannot be told
  // apart from someone else's.
  const foreign = bare.filter((e) => !isOurEntry(e));
  assertEquals(foreign.length, 6);
  assertEquals(foreign.filter((e) => e.kind === "rule" && e.chain.startsWith("KUMA_MESH_")), []);
  // The two jumps per family are what install would refuse as foreign jumps.
  assertEquals(foreignJumpsOf(bare).length, 4);
});

Deno.test("foreignJumpsOf() finds rules not ours that jump or go to our chains, nothing else", () => {
  const r = (chain: string, args: string[]): DirectEntry => ({
    kind: "rule",
    ipv: "ipv4",
    table: "nat",
    chain,
    priority: -5,
    args,
  });
  const admin = r("PREROUTING", ["-p", "tcp", "--dport", "28", "-j", "KUMA_MESH_INBOUND"]);
  const goto = r("OUTPUT", ["--goto", "KUMA_MESH_OUTBOUND"]);
  const entries: DirectEntry[] = [
    admin,
    goto,
    r("PREROUTING", [
      "-m",
      "comment",
      "--comment",
      "kuma/mesh/transparent/proxy/x",
      "-j",
      "KUMA_MESH_INBOUND",
    ]),
    r("KUMA_MESH_INBOUND", ["-j", "KUMA_MESH_INBOUND_REDIRECT"]),
    r("OUTPUT", ["-j", "KUMA_MESHY"]),
    r("OUTPUT", ["-j", "KUMA_MESH_"]),
    r("OUTPUT", [
      "-m",
      "comment",
      "--comment",
      "kuma/mesh/transparent/proxyX",
      "-j",
      "KUMA_MESH_X",
    ]),
    { kind: "chain", ipv: "ipv4", table: "nat", chain: "KUMA_MESH_INBOUND" },
    { kind: "passthrough", ipv: "ipv4", args: ["-t", "nat", "-A", "OUTPUT", "-j", "KUMA_MESH_X"] },
  ];
  assertEquals(foreignJumpsOf(entries), [admin, goto, entries[6]]);
  assertEquals(
    foreignJumpsOf(toDirectEntries(dualStackRuleSets(), { ruleArgs: stubRuleArgs })),
    [],
  );
});

Deno.test("sameEntry() compares kind, key, priority and arguments", () => {
  const a: DirectEntry = {
    kind: "rule",
    ipv: "ipv4",
    table: "nat",
    chain: "X",
    priority: 1,
    args: ["-j", "A"],
  };
  assert(sameEntry(a, { ...a, args: ["-j", "A"] }));
  assert(!sameEntry(a, { ...a, priority: 2 }));
  assert(!sameEntry(a, { ...a, ipv: "ipv6" }));
  assert(!sameEntry(a, { ...a, args: ["-j", "B"] }));
});

Deno.test("toDirectEntries() uses src/rules/render.ts ruleArgs() by default, and its rules read back as ours", () => {
  const entries = toDirectEntries(dualStackRuleSets());
  assert(entries.every(isOurEntry));
  const [first] = rules(entries, "PREROUTING");
  assertEquals(first.args.slice(0, 3), ["-m", "comment", "--comment"]);
  assertEquals(first.args.slice(-2), ["-j", "KUMA_MESH_INBOUND"]);
});
