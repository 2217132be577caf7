/**
 * Checks direct entries with `iptables-restore --test` before they reach
 * firewalld: one invalid direct rule puts firewalld in FAILED state at its
 * next start or reload, and then none of the direct rules are applied
 * (firewalld F4, docs/firewalld.md#f4).
 *
 * @module
 */
import type { Runner } from "../os/runner.ts";
import type { DirectEntry, DirectRule } from "./direct_entries.ts";
import { FirewalldError } from "./errors.ts";
import { restoreLine } from "./shell_words.ts";

/** Restore commands per family; defaults are what firewalld itself runs. */
export interface RestoreCommands {
  ipv4?: string;
  ipv6?: string;
}

/**
 * The iptables-restore input for one `ipv`'s entries, quoted the way
 * firewalld quotes it, so that `--test` sees what firewalld would feed.
 *
 * @example
 * ```ts
 * import { restoreTestInput } from "./validate.ts";
 * const text = restoreTestInput([
 *   { kind: "chain", ipv: "ipv4", table: "nat", chain: "KUMA_MESH_X" },
 *   { kind: "rule", ipv: "ipv4", table: "nat", chain: "OUTPUT", priority: 0, args: ["-j", "KUMA_MESH_X"] },
 * ], "ipv4");
 * if (text !== "*nat\n:KUMA_MESH_X - [0:0]\n-A OUTPUT -j KUMA_MESH_X\nCOMMIT\n") throw new Error(text);
 * ```
 */
export function restoreTestInput(entries: readonly DirectEntry[], ipv: "ipv4" | "ipv6"): string {
  const tables = new Map<string, { chains: string[]; rules: DirectRule[] }>();
  for (const e of entries) {
    if (e.kind === "passthrough" || e.ipv !== ipv) continue;
    const t = tables.get(e.table) ?? { chains: [], rules: [] };
    tables.set(e.table, t);
    if (e.kind === "chain") t.chains.push(e.chain);
    else t.rules.push(e);
  }
  let out = "";
  for (const [table, t] of tables) {
    out += `*${table}\n`;
    for (const chain of t.chains) out += `:${chain} - [0:0]\n`;
    // Array.prototype.sort is stable: equal priorities keep their order.
    const rules = [...t.rules].sort((a, b) => a.priority - b.priority);
    for (const r of rules) out += restoreLine(["-A", r.chain, ...r.args]) + "\n";
    out += "COMMIT\n";
  }
  return out;
}

/** Runs `iptables-restore --test` (and the ip6tables one) on the entries; throws `invalid_rules` with stderr. */
export async function validateEntries(
  runner: Runner,
  entries: readonly DirectEntry[],
  commands: RestoreCommands = {},
): Promise<void> {
  for (const ipv of ["ipv4", "ipv6"] as const) {
    const input = restoreTestInput(entries, ipv);
    if (input === "") continue;
    const cmd = commands[ipv] ?? (ipv === "ipv4" ? "iptables-restore" : "ip6tables-restore");
    const result = await runner.run(cmd, ["--test"], { stdin: input });
    if (result.code !== 0) {
      throw new FirewalldError(
        "invalid_rules",
        `${cmd} --test refused the ${ipv} direct rules, so they were not given to firewalld: ${result.stderr.trim()}`,
        { operation: `${cmd} --test`, stderr: result.stderr },
      );
    }
  }
}
