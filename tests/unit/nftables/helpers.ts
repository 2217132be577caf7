/** The nft script of a case of tests/cases.ts, shared by the golden and the namespace tests. */
import { buildRuleSet } from "../../../src/rules/build.ts";
import { expectedLines, nftOptionsFor, renderNftScript } from "../../../src/nftables/script.ts";
import { configForCase, factsForCase } from "../../cases.ts";

async function ruleSetsForCase(name: string) {
  const config = await configForCase(name);
  const ruleSets = ([4, 6] as const).map((family) =>
    buildRuleSet(config, factsForCase(name, family)).ruleSet
  );
  return { ruleSets, options: nftOptionsFor(config) };
}

/** The nft script of a case, as `install --backend nftables --dry-run` prints it. */
export async function nftScriptForCase(name: string): Promise<string> {
  const { ruleSets, options } = await ruleSetsForCase(name);
  return renderNftScript(ruleSets, options);
}

/** What `status` expects of a case's table (see `expectedLines`). */
export async function nftExpectedForCase(name: string) {
  const { ruleSets, options } = await ruleSetsForCase(name);
  return expectedLines(ruleSets, options);
}
