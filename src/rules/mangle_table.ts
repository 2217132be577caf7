/**
 * The mangle table: dropping packets in the INVALID conntrack state
 * (kumactl `builder/builder_table_mangle.go`, `--drop-invalid-packets`).
 *
 * @module
 */
import type { BuildContext } from "./context.ts";
import type { Rule, Table } from "./model.ts";
import { conntrackState, jump } from "./params.ts";
import { appendRule } from "./rule.ts";

/**
 * Builds the mangle table. It has no rules unless dropInvalidPackets is set
 * and the host has both the mangle table and the conntrack module; otherwise
 * a warning explains why the option had no effect.
 *
 * @example
 * ```ts
 * import { buildMangleTable } from "./mangle_table.ts";
 * import { buildContext } from "./context.ts";
 * import { defaultConfig } from "../config/defaults.ts";
 * import { FULL_FUNCTIONALITY } from "./facts.ts";
 * const config = defaultConfig();
 * config.dropInvalidPackets = true;
 * const { context } = buildContext(config, {
 *   family: 4, uid: 5678, loopback: "lo", nameservers: [], functionality: FULL_FUNCTIONALITY,
 * });
 * if (buildMangleTable(context).table.rules.length !== 1) throw new Error();
 * ```
 */
export function buildMangleTable(ctx: BuildContext): { table: Table; warnings: string[] } {
  const rules: Rule[] = [];
  const warnings: string[] = [];
  const fn = ctx.facts.functionality;
  if (ctx.config.dropInvalidPackets) {
    if (!fn.tables.mangle || !fn.modules.conntrack) {
      // kumactl silently skips the rule without a mangle table; say so instead.
      warnings.push(
        "dropping invalid packets is disabled. This requires the 'mangle' table " +
          "and the 'conntrack' iptables module",
      );
    } else {
      rules.push(appendRule(
        "PREROUTING",
        "drop packets in the INVALID state to prevent potential issues with malformed " +
          "or out-of-order packets",
        [conntrackState("INVALID"), jump("DROP")],
      ));
    }
  }
  return { table: { name: "mangle", chains: [], rules }, warnings };
}
