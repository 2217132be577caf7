/**
 * Whether someone else changed a backend while an install waited for
 * confirmation: the rollback then keeps their change (it only ever removes
 * ours and re-creates our previous rules, src/iptables/transaction.ts), and
 * says so, since our re-created rules may then stand beside theirs in an
 * order nobody chose.
 *
 * @module
 */
import type { SaveDump } from "../../iptables/save_parser.ts";

/**
 * The part of a dump that is not ours, one line per chain (with its policy)
 * and per rule, as iptables-save prints them without `-c`: counters never
 * count as a change.
 *
 * @example
 * ```ts
 * import { foreignLines } from "./foreign.ts";
 * import { parseSave } from "../../iptables/save_parser.ts";
 * const dump = parseSave("*nat\n:OUTPUT ACCEPT [3:180]\n:KUMA_MESH_OUTBOUND - [0:0]\n" +
 *   '-A OUTPUT -m comment --comment "kuma/mesh/transparent/proxy/x" -j KUMA_MESH_OUTBOUND\n' +
 *   "-A OUTPUT -j RETURN\nCOMMIT\n");
 * if (foreignLines(dump).join("|") !== "-t nat :OUTPUT ACCEPT|-t nat -A OUTPUT -j RETURN") throw new Error();
 * ```
 */
export function foreignLines(dump: SaveDump): string[] {
  const lines: string[] = [];
  for (const t of dump.tables) {
    for (const c of t.chains) if (!c.ours) lines.push(`-t ${t.name} :${c.name} ${c.policy}`);
    for (const c of t.chains) {
      for (const r of c.rules) {
        if (!r.ours) lines.push(`-t ${t.name} -A ${c.name} ${r.spec}`.trimEnd());
      }
    }
  }
  return lines;
}

/**
 * The tables whose foreign part differs between `before` (read before the
 * apply) and `now`; empty when only our rules changed. An empty table and
 * a missing one are the same: iptables-nft lists a table once anything
 * touched it.
 *
 * @example
 * ```ts
 * import { foreignChanges } from "./foreign.ts";
 * import { parseSave } from "../../iptables/save_parser.ts";
 * const a = parseSave("*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n");
 * const b = parseSave("*filter\n:INPUT ACCEPT [9:900]\n-A INPUT -j DROP\nCOMMIT\n");
 * if (foreignChanges(a, b).join() !== "filter") throw new Error();
 * ```
 */
export function foreignChanges(before: SaveDump, now: SaveDump): string[] {
  const names = new Set([...before.tables, ...now.tables].map((t) => t.name));
  const of = (dump: SaveDump, name: string) => {
    const t = dump.tables.find((x) => x.name === name);
    if (!t) return [];
    const lines = foreignLines({ tables: [t] });
    // A table holding only empty built-in chains with ACCEPT is as good as none.
    return lines.every((l) => / ACCEPT$/.test(l) && l.includes(" :")) ? [] : lines;
  };
  return [...names].filter((name) => {
    const x = of(before, name);
    const y = of(now, name);
    return x.length !== y.length || x.some((l, i) => l !== y[i]);
  });
}
