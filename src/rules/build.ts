/**
 * The entry point of rule generation: config and host facts in, the rule set
 * of one family and the warnings out. Nothing here runs a command.
 *
 * @module
 */
import type { Config } from "../config/types.ts";
import type { BuildFacts } from "./facts.ts";
import { buildContext } from "./context.ts";
import { buildMangleTable } from "./mangle_table.ts";
import type { RuleSet, Table } from "./model.ts";
import { TABLE_ORDER } from "./model.ts";
import { buildNatTable } from "./nat_table.ts";
import { buildRawTable } from "./raw_table.ts";

/**
 * Builds the rule set for `facts.family`. Tables without rules are left out,
 * as kumactl does.
 *
 * @example
 * ```ts
 * import { buildRuleSet } from "./build.ts";
 * import { defaultConfig } from "../config/defaults.ts";
 * import { FULL_FUNCTIONALITY } from "./facts.ts";
 * const { ruleSet } = buildRuleSet(defaultConfig(), {
 *   family: 4, uid: 5678, loopback: "lo", nameservers: [], functionality: FULL_FUNCTIONALITY,
 * });
 * if (ruleSet.tables.map((t) => t.name).join() !== "nat") throw new Error();
 * ```
 */
export function buildRuleSet(
  config: Config,
  facts: BuildFacts,
): { ruleSet: RuleSet; warnings: string[] } {
  const { context, warnings } = buildContext(config, facts);
  const mangle = buildMangleTable(context);
  const tables: Table[] = [buildRawTable(context), buildNatTable(context), mangle.table];
  return {
    ruleSet: {
      family: facts.family,
      tables: tables
        .filter((t) => t.rules.length > 0)
        .sort((a, b) => TABLE_ORDER.indexOf(a.name) - TABLE_ORDER.indexOf(b.name)),
    },
    warnings: [...warnings, ...mangle.warnings],
  };
}
