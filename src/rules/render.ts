/**
 * Renderers from the rule model to text: iptables-restore input (kumactl's
 * short or verbose form), the argv of one rule (firewalld direct rules), and
 * kumactl's dry-run layout. Both outputs derive from the same model.
 *
 * @module
 */
import type { Config } from "../config/types.ts";
import type { Functionality } from "./facts.ts";
import { fullComment } from "./comment.ts";
import { type Family, OPTION_FORMS, type Rule, type RuleSet, type Table } from "./model.ts";

/** How to write rules. */
export interface RenderOptions {
  /** Long option names and section headers (kumactl `--verbose`). */
  verbose: boolean;
  /** Prefix every rule with `-m comment --comment ...`. */
  comments: boolean;
}

/** Built-in chains come first, in this order (kumactl `tables.go`). */
const BUILTIN_CHAINS = ["PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"];

/**
 * Render options as kumactl decides them: comments need both the setting and
 * the `comment` match module.
 *
 * @example
 * ```ts
 * import { renderOptionsFor } from "./render.ts";
 * import { defaultConfig } from "../config/defaults.ts";
 * import { FULL_FUNCTIONALITY } from "./facts.ts";
 * if (!renderOptionsFor(defaultConfig(), FULL_FUNCTIONALITY).comments) throw new Error();
 * ```
 */
export function renderOptionsFor(config: Config, functionality: Functionality): RenderOptions {
  return {
    verbose: config.verbose,
    comments: !config.comments.disabled && functionality.modules.comment,
  };
}

function option(name: string, verbose: boolean): string {
  const forms = OPTION_FORMS[name];
  if (forms === undefined) return `--${name}`;
  return verbose ? forms[1] : forms[0];
}

/**
 * The argv tokens of a rule's spec, without the `-A`/`-I` chain part. The
 * comment is one unquoted token after `--comment`, as firewalld's direct
 * interface and `Deno.Command` take it.
 *
 * @example
 * ```ts
 * import { ruleArgs } from "./render.ts";
 * const rule = { chain: "OUTPUT", insert: false, comment: "x",
 *   params: [{ name: "jump", value: "RETURN" }] };
 * const args = ruleArgs(rule, { verbose: false, comments: true });
 * if (args.join(" ") !== "-m comment --comment kuma/mesh/transparent/proxy/x -j RETURN") {
 *   throw new Error(args.join(" "));
 * }
 * ```
 */
export function ruleArgs(rule: Rule, options: RenderOptions): string[] {
  const args: string[] = [];
  if (options.comments) {
    args.push(option("match", options.verbose), "comment", "--comment", fullComment(rule.comment));
  }
  for (const p of rule.params) {
    if (p.negate) args.push("!");
    args.push(option(p.name, options.verbose));
    if (p.value !== undefined) args.push(p.value);
  }
  return args;
}

/** Rules grouped by chain: built-ins first, then the table's custom chains, then any others. */
function rulesInFileOrder(table: Table): Rule[] {
  const order = [...BUILTIN_CHAINS, ...table.chains];
  for (const r of table.rules) if (!order.includes(r.chain)) order.push(r.chain);
  return order.flatMap((chain) => table.rules.filter((r) => r.chain === chain));
}

function renderTable(table: Table, options: RenderOptions): string[] {
  const { verbose } = options;
  const lines = [`*${table.name}`];
  if (table.chains.length > 0) {
    if (verbose) lines.push("# Custom Chains:");
    for (const chain of table.chains) lines.push(`${option("new-chain", verbose)} ${chain}`);
    if (verbose) lines.push("");
  }
  if (verbose) lines.push("# Rules:");
  // Each insert goes right below the previous insert of its chain (-I CHAIN 1,
  // 2, ...), so kuma's inserted rules keep their order, ahead of foreign rules.
  const inserted = new Map<string, number>();
  for (const rule of rulesInFileOrder(table)) {
    let head: string;
    if (rule.insert) {
      const n = (inserted.get(rule.chain) ?? 0) + 1;
      inserted.set(rule.chain, n);
      head = `${option("insert", verbose)} ${rule.chain} ${n}`;
    } else {
      head = `${option("append", verbose)} ${rule.chain}`;
    }
    const args = ruleArgs(rule, options).map((a, i, all) =>
      i > 0 && all[i - 1] === "--comment" ? `"${a}"` : a
    );
    lines.push([head, ...args].join(" "));
  }
  if (verbose) lines.push("");
  lines.push("COMMIT");
  return lines;
}

/**
 * The iptables-restore input for a rule set: tables in raw, nat, mangle order,
 * each with its `-N` lines first, then its rules by chain (PREROUTING, INPUT,
 * OUTPUT, POSTROUTING, then the custom chains). Load it with `--noflush`.
 *
 * @example
 * ```ts
 * import { renderRestore } from "./render.ts";
 * const text = renderRestore({ family: 4, tables: [] }, { verbose: false, comments: true });
 * if (text !== "") throw new Error();
 * ```
 */
export function renderRestore(ruleSet: RuleSet, options: RenderOptions): string {
  const tables = ruleSet.tables.map((t) => renderTable(t, options).join("\n"));
  if (tables.length === 0) return "";
  return tables.join(options.verbose ? "\n\n" : "\n") + "\n";
}

/**
 * kumactl's dry-run layout: a `### IPv4 ###` header, a blank line, the
 * restore text, a blank line, and the same for IPv6.
 *
 * @example
 * ```ts
 * import { renderDryRun } from "./render.ts";
 * const out = renderDryRun([{ family: 4, text: "*nat\nCOMMIT\n" }]);
 * if (out !== "### IPv4 ###\n\n*nat\nCOMMIT\n") throw new Error(out);
 * ```
 */
export function renderDryRun(sections: { family: Family; text: string }[]): string {
  return sections.map((s) => `### IPv${s.family} ###\n\n${s.text.trim()}\n`).join("\n");
}
