/**
 * Golden nft scripts for every case of tests/cases.ts: both families of the
 * case's rule sets (the ones the iptables goldens show) as one inet table.
 */
import { buildRuleSet } from "../../../src/rules/build.ts";
import { nftOptionsFor, renderNftScript } from "../../../src/nftables/script.ts";
import { CASES, configForCase, factsForCase } from "../../cases.ts";
import { assertGolden } from "../../golden.ts";

/** The nft script of a case, as `install --backend nftables --dry-run` prints it. */
export async function nftScriptForCase(name: string): Promise<string> {
  const config = await configForCase(name);
  const ruleSets = ([4, 6] as const).map((family) =>
    buildRuleSet(config, factsForCase(name, family)).ruleSet
  );
  return renderNftScript(ruleSets, nftOptionsFor(config));
}

for (const c of CASES) {
  Deno.test(`renderNftScript() matches the golden script of case ${c.name}`, async () => {
    assertGolden(`nftables/${c.name}.nft`, await nftScriptForCase(c.name));
  });
}
