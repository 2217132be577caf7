/**
 * Golden restore text for every case of tests/cases.ts, IPv4 and IPv6 in
 * kumactl's dry-run layout, in short and verbose form. Comments follow the
 * case's config (the comments-disabled case covers rules without them).
 */
import { buildRuleSet } from "../../../src/rules/build.ts";
import { renderDryRun, renderOptionsFor, renderRestore } from "../../../src/rules/render.ts";
import { CASES, configForCase, factsForCase } from "../../cases.ts";
import { assertGolden } from "../../golden.ts";

for (const c of CASES) {
  for (const verbose of [false, true]) {
    Deno.test(`renderDryRun() matches the golden text of case ${c.name}${verbose ? " (verbose)" : ""}`, async () => {
      const config = await configForCase(c.name);
      config.verbose = verbose;
      const sections = ([4, 6] as const).map((family) => {
        const facts = factsForCase(c.name, family);
        const { ruleSet } = buildRuleSet(config, facts);
        const options = renderOptionsFor(config, facts.functionality);
        return { family, text: renderRestore(ruleSet, options) };
      });
      assertGolden(`rules/${c.name}${verbose ? ".verbose" : ""}.txt`, renderDryRun(sections));
    });
  }
}
