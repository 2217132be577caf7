/**
 * Counting what a command changed, the same way on every line it prints:
 * rules and chains, never a mix called "entries". A firewalld direct rule is
 * one iptables rule and a direct chain one custom chain, so the numbers of
 * the kernel lines and the firewalld lines can be compared.
 *
 * @module
 */
import type { DirectEntry } from "../firewalld/direct_entries.ts";
import type { RuleSet } from "../rules/model.ts";

/** How many rules and custom chains. */
export interface Counts {
  rules: number;
  chains: number;
}

/** Counts a rule set: its rules and the custom chains it creates. */
export function countRuleSet(ruleSet: RuleSet): Counts {
  return {
    rules: ruleSet.tables.reduce((n, t) => n + t.rules.length, 0),
    chains: ruleSet.tables.reduce((n, t) => n + t.chains.length, 0),
  };
}

/** Counts removal lines of `describeRemoval` (`-t nat -D ...`, `-t nat -X CHAIN`). */
export function countRemoval(lines: readonly string[]): Counts {
  const chains = lines.filter((l) => /^-t \S+ -X /.test(l)).length;
  return { rules: lines.length - chains, chains };
}

/** Counts firewalld direct entries (a passthrough counts as a rule; ours are never passthroughs). */
export function countEntries(entries: readonly DirectEntry[]): Counts {
  const chains = entries.filter((e) => e.kind === "chain").length;
  return { rules: entries.length - chains, chains };
}

/**
 * `3 rules and 1 chain`, `1 rule`, `0 rules`.
 *
 * @example
 * ```ts
 * import { formatCounts } from "./counts.ts";
 * if (formatCounts({ rules: 11, chains: 1 }) !== "11 rules and 1 chain") throw new Error();
 * if (formatCounts({ rules: 1, chains: 0 }) !== "1 rule") throw new Error();
 * ```
 */
export function formatCounts(c: Counts): string {
  const rules = `${c.rules} rule${c.rules === 1 ? "" : "s"}`;
  return c.chains === 0 ? rules : `${rules} and ${c.chains} chain${c.chains === 1 ? "" : "s"}`;
}
