/** Shared helpers for the rule-builder tests. */
import { defaultConfig } from "../../../src/config/defaults.ts";
import type { Config } from "../../../src/config/types.ts";
import {
  type BuildFacts,
  FULL_FUNCTIONALITY,
  type Functionality,
} from "../../../src/rules/facts.ts";
import { buildRuleSet } from "../../../src/rules/build.ts";
import type { Family, Rule, RuleSet, Table, TableName } from "../../../src/rules/model.ts";
import { ruleArgs } from "../../../src/rules/render.ts";

/** Facts of a standard host: UID 5678, loopback `lo`, everything available. */
export function facts(family: Family, overrides: Partial<BuildFacts> = {}): BuildFacts {
  return {
    family,
    uid: 5678,
    loopback: "lo",
    nameservers: family === 4 ? ["10.0.0.2"] : [],
    functionality: FULL_FUNCTIONALITY,
    ...overrides,
  };
}

/** FULL_FUNCTIONALITY with some parts changed. */
export function functionality(change: (f: Functionality) => void): Functionality {
  const f: Functionality = structuredClone(FULL_FUNCTIONALITY);
  change(f);
  return f;
}

/** A default Config changed by `change`. */
export function config(change: (c: Config) => void = () => {}): Config {
  const c = defaultConfig();
  change(c);
  return c;
}

/** Builds and returns the rule set (warnings in `warnings`). */
export function build(c: Config, f: BuildFacts): { ruleSet: RuleSet; warnings: string[] } {
  return buildRuleSet(c, f);
}

/** The named table of a rule set, or undefined when it was left out. */
export function table(ruleSet: RuleSet, name: TableName): Table | undefined {
  return ruleSet.tables.find((t) => t.name === name);
}

/** A rule's spec as one line: short options, no comment. */
export function spec(rule: Rule): string {
  return ruleArgs(rule, { verbose: false, comments: false }).join(" ");
}

/**
 * The rules of `chain` in the order the kernel will see them once loaded into
 * an empty chain: inserted rules first (in generation order), then appended ones.
 */
export function effectiveChain(t: Table | undefined, chain: string): Rule[] {
  const rules = (t?.rules ?? []).filter((r) => r.chain === chain);
  return [...rules.filter((r) => r.insert), ...rules.filter((r) => !r.insert)];
}

/** `effectiveChain` as spec lines. */
export function effectiveSpecs(t: Table | undefined, chain: string): string[] {
  return effectiveChain(t, chain).map(spec);
}
