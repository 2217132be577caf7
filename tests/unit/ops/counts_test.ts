import { assertEquals } from "../../assert.ts";
import { countEntries, countRemoval, countRuleSet, formatCounts } from "../../../src/ops/counts.ts";
import { toDirectEntries } from "../../../src/firewalld/direct_entries.ts";
import type { RuleSet } from "../../../src/rules/model.ts";

const ruleSet: RuleSet = {
  family: 4,
  tables: [{
    name: "nat",
    chains: ["KUMA_MESH_OUTBOUND", "KUMA_MESH_INBOUND"],
    rules: [
      { chain: "OUTPUT", insert: false, comment: "a", params: [] },
      { chain: "KUMA_MESH_OUTBOUND", insert: false, comment: "b", params: [] },
      { chain: "KUMA_MESH_INBOUND", insert: false, comment: "c", params: [] },
    ],
  }],
};

Deno.test("countRuleSet(), countEntries() and countRemoval() count the same rule set alike", () => {
  const installed = countRuleSet(ruleSet);
  const stored = countEntries(
    toDirectEntries([ruleSet], { ruleArgs: (r) => ["-m", "comment", "--comment", r.comment] }),
  );
  const removed = countRemoval([
    "-t nat -D OUTPUT -j KUMA_MESH_OUTBOUND",
    "-t nat -D KUMA_MESH_OUTBOUND -j RETURN",
    "-t nat -D KUMA_MESH_INBOUND -j RETURN",
    "-t nat -X KUMA_MESH_OUTBOUND",
    "-t nat -X KUMA_MESH_INBOUND",
  ]);
  assertEquals([installed, stored, removed], [
    { rules: 3, chains: 2 },
    { rules: 3, chains: 2 },
    { rules: 3, chains: 2 },
  ]);
});

Deno.test("formatCounts() names rules and chains with their plurals", () => {
  const cases: [number, number, string][] = [
    [0, 0, "0 rules"],
    [1, 0, "1 rule"],
    [19, 0, "19 rules"],
    [1, 1, "1 rule and 1 chain"],
    [11, 4, "11 rules and 4 chains"],
  ];
  for (const [rules, chains, text] of cases) assertEquals(formatCounts({ rules, chains }), text);
});
