import { buildRuleSet } from "../../../src/rules/build.ts";
import { fullComment } from "../../../src/rules/comment.ts";
import { assert, assertEquals } from "../../assert.ts";
import { CASES, configForCase, factsForCase } from "../../cases.ts";
import { config, facts, functionality } from "./helpers.ts";

Deno.test("buildRuleSet() orders tables raw, nat, mangle and leaves out empty ones", () => {
  const all = config((c) => {
    c.redirect.dns.enabled = true;
    c.dropInvalidPackets = true;
  });
  assertEquals(buildRuleSet(all, facts(4)).ruleSet.tables.map((t) => t.name), [
    "raw",
    "nat",
    "mangle",
  ]);
  assertEquals(buildRuleSet(config(), facts(4)).ruleSet.tables.map((t) => t.name), ["nat"]);
});

Deno.test("buildRuleSet() returns the rule set of the facts' family", () => {
  assertEquals(buildRuleSet(config(), facts(6)).ruleSet.family, 6);
});

Deno.test("buildRuleSet() collects DNS and mangle warnings", () => {
  const c = config((c) => {
    c.redirect.dns.enabled = true;
    c.dropInvalidPackets = true;
  });
  const f = facts(6, {
    nameservers: [],
    functionality: functionality((f) => (f.tables.mangle = false)),
  });
  const { ruleSet, warnings } = buildRuleSet(c, f);
  assertEquals(warnings.length, 2);
  assertEquals(ruleSet.tables.map((t) => t.name), ["nat"]);
});

Deno.test("buildRuleSet() gives every rule of every case a quote-free comment within 255 bytes", async () => {
  let rules = 0;
  for (const c of CASES) {
    for (const family of [4, 6] as const) {
      const { ruleSet } = buildRuleSet(await configForCase(c.name), factsForCase(c.name, family));
      for (const rule of ruleSet.tables.flatMap((t) => t.rules)) {
        const full = fullComment(rule.comment);
        assert(!/["']/.test(full), full);
        assert(new TextEncoder().encode(full).length <= 255, full);
        rules++;
      }
    }
  }
  assert(rules > 100);
});
