/**
 * Surgical removal of our rules. kumactl flushed every table and restored a
 * filtered copy (kumactl quirk K8.7, docs/kumactl.md#k8-7), which races with Docker, firewalld and
 * kube-proxy and drops anything that merely mentions KUMA_MESH. Here every
 * rule we own in a chain we do not own is deleted by its exact spec, and only
 * our own chains are flushed and deleted, so every other rule stays as it is.
 */
import type { SaveDump } from "./save_parser.ts";

/** What to remove from one table. */
export interface TableRemoval {
  table: string;
  /** `-D CHAIN spec` lines, one per occurrence (each -D deletes the first match). */
  deletes: string[];
  /** Our KUMA_MESH_* chains: flushed, then deleted. */
  chains: string[];
  /**
   * The rules in those chains, as `-D CHAIN spec`, for listings and counts
   * only (the flush removes them), so that a removal counts the same rules
   * an install created.
   */
  flushed?: string[];
}

/**
 * Lists what must go, per table; tables without anything of ours are left out.
 *
 * @example
 * ```ts
 * import { parseSave } from "./save_parser.ts";
 * import { planRemoval } from "./cleanup.ts";
 * const dump = parseSave([
 *   "*nat", ":OUTPUT ACCEPT [0:0]", ":KUMA_MESH_OUTBOUND - [0:0]",
 *   '-A OUTPUT -p tcp -m comment --comment "kuma/mesh/transparent/proxy/x" -j KUMA_MESH_OUTBOUND',
 *   "-A KUMA_MESH_OUTBOUND -j RETURN", "COMMIT",
 * ].join("\n"));
 * const [nat] = planRemoval(dump);
 * if (nat.deletes.length !== 1 || nat.chains[0] !== "KUMA_MESH_OUTBOUND") throw new Error();
 * ```
 */
export function planRemoval(dump: SaveDump): TableRemoval[] {
  const out: TableRemoval[] = [];
  for (const t of dump.tables) {
    const deletes: string[] = [];
    const chains: string[] = [];
    const flushed: string[] = [];
    for (const c of t.chains) {
      if (c.ours) {
        chains.push(c.name);
        for (const r of c.rules) flushed.push(`-D ${c.name} ${r.spec}`.trimEnd());
        continue;
      }
      for (const r of c.rules) {
        if (r.ours) deletes.push(`-D ${c.name} ${r.spec}`.trimEnd());
      }
    }
    if (deletes.length > 0 || chains.length > 0) {
      out.push({ table: t.name, deletes, chains, flushed });
    }
  }
  return out;
}

/**
 * The body lines of one table's removal. Every chain is flushed before any is
 * deleted, because our chains jump to each other and a chain still referenced
 * cannot be deleted.
 */
export function removalLines(removal: TableRemoval): string[] {
  return [
    ...removal.deletes,
    ...removal.chains.map((c) => `-F ${c}`),
    ...removal.chains.map((c) => `-X ${c}`),
  ];
}

/**
 * Renders the removal as `iptables-restore --noflush` input ("" if there is
 * nothing to remove). Each table commits on its own, atomically.
 *
 * @example
 * ```ts
 * import { renderRemoval } from "./cleanup.ts";
 * const text = renderRemoval([{ table: "nat", deletes: ["-D OUTPUT -j KUMA_MESH_OUTBOUND"], chains: ["KUMA_MESH_OUTBOUND"] }]);
 * if (text !== "*nat\n-D OUTPUT -j KUMA_MESH_OUTBOUND\n-F KUMA_MESH_OUTBOUND\n-X KUMA_MESH_OUTBOUND\nCOMMIT\n") throw new Error();
 * ```
 */
export function renderRemoval(removals: TableRemoval[]): string {
  return removals.map((r) => [`*${r.table}`, ...removalLines(r), "COMMIT", ""].join("\n")).join("");
}

/** One line per removed rule or chain, prefixed by its table, for listings and dry-run. */
export function describeRemoval(removals: TableRemoval[]): string[] {
  return removals.flatMap((r) => [
    ...r.deletes.map((d) => `-t ${r.table} ${d}`),
    ...(r.flushed ?? []).map((d) => `-t ${r.table} ${d}`),
    ...r.chains.map((c) => `-t ${r.table} -X ${c}`),
  ]);
}
