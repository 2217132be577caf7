/**
 * What persisting with a running firewalld will change, decided before any
 * bus call: the next permanent direct config and the runtime entries to
 * remove and add. `persist.ts` reads firewalld's state, asks these pure
 * functions for a {@link PersistPlan} and only applies it; a rollback is the
 * plan back to the state read before ({@link rollbackPlan}).
 *
 * @module
 */
import type { DirectConfig } from "./bus.ts";
import { type DirectEntry, isOurEntry, sameEntry } from "./direct_entries.ts";

/** Runtime entries to take out and put in, each list in the order firewalld needs. */
export interface RuntimeChange {
  /** Rules first, then chains: a chain goes only once no rule sits in it or jumps to it. */
  remove: DirectEntry[];
  /** Chains first, then rules: a rule needs its chain. */
  add: DirectEntry[];
}

/** A persist step as data. */
export interface PersistPlan {
  /** The whole next permanent direct config (`config.direct.update`), or null to leave it. */
  permanent: DirectConfig | null;
  runtime: RuntimeChange;
}

/**
 * Our entries (see `isOurEntry`) of a list of direct entries.
 *
 * @example
 * ```ts
 * import { oursOf } from "./persist_plan.ts";
 * const foreign = { kind: "chain", ipv: "ipv4", table: "nat", chain: "DOCKER" } as const;
 * if (oursOf([foreign]).length !== 0) throw new Error();
 * ```
 */
export function oursOf(entries: readonly DirectEntry[]): DirectEntry[] {
  return entries.filter(isOurEntry);
}

/** Our entries of a permanent config, chains then rules. */
export function permanentOurs(config: DirectConfig): DirectEntry[] {
  return oursOf([...config.chains, ...config.rules]);
}

/**
 * The permanent config with our entries replaced by `ours`: foreign chains,
 * rules and every passthrough stay as they were, in their order; ours go after them.
 *
 * @example
 * ```ts
 * import { nextPermanent } from "./persist_plan.ts";
 * const docker = { kind: "chain", ipv: "ipv4", table: "nat", chain: "DOCKER" } as const;
 * const mesh = { kind: "chain", ipv: "ipv4", table: "nat", chain: "KUMA_MESH_INBOUND" } as const;
 * const next = nextPermanent({ chains: [mesh, docker], rules: [], passthroughs: [] }, []);
 * if (next.chains.length !== 1 || next.chains[0].chain !== "DOCKER") throw new Error();
 * ```
 */
export function nextPermanent(previous: DirectConfig, ours: readonly DirectEntry[]): DirectConfig {
  return {
    chains: [
      ...previous.chains.filter((e) => !isOurEntry(e)),
      ...ours.filter((e) => e.kind === "chain"),
    ],
    rules: [
      ...previous.rules.filter((e) => !isOurEntry(e)),
      ...ours.filter((e) => e.kind === "rule"),
    ],
    passthroughs: previous.passthroughs,
  };
}

/**
 * What turns the runtime entries `from` into `to`. Entries in both are left
 * alone, so an unchanged re-install opens no gap. firewalld places each rule
 * by its priority, so the order of the adds keeps the chain order.
 *
 * @example
 * ```ts
 * import { runtimeChange } from "./persist_plan.ts";
 * const chain = { kind: "chain", ipv: "ipv4", table: "nat", chain: "KUMA_MESH_INBOUND" } as const;
 * const change = runtimeChange([chain], [chain]);
 * if (change.remove.length + change.add.length !== 0) throw new Error();
 * ```
 */
export function runtimeChange(
  from: readonly DirectEntry[],
  to: readonly DirectEntry[],
): RuntimeChange {
  const drop = from.filter((e) => !to.some((t) => sameEntry(e, t)));
  const add = to.filter((e) => !from.some((f) => sameEntry(e, f)));
  return {
    remove: [...drop.filter((e) => e.kind === "rule"), ...drop.filter((e) => e.kind === "chain")],
    add: [...add.filter((e) => e.kind === "chain"), ...add.filter((e) => e.kind === "rule")],
  };
}

/**
 * Storing `entries`: the permanent config always rewritten with ours replaced
 * (firewalld then rewrites direct.xml), the runtime entries of ours turned into `entries`.
 *
 * @example
 * ```ts
 * import { planStore } from "./persist_plan.ts";
 * const chain = { kind: "chain", ipv: "ipv4", table: "nat", chain: "KUMA_MESH_INBOUND" } as const;
 * const plan = planStore({ chains: [], rules: [], passthroughs: [] }, [], [chain]);
 * if (plan.permanent?.chains.length !== 1 || plan.runtime.add.length !== 1) throw new Error();
 * ```
 */
export function planStore(
  previous: DirectConfig,
  previousRuntime: readonly DirectEntry[],
  entries: readonly DirectEntry[],
): PersistPlan {
  return {
    permanent: nextPermanent(previous, entries),
    runtime: runtimeChange(oursOf(previousRuntime), entries),
  };
}

/**
 * Removing ours: the permanent config rewritten only if it holds entries of
 * ours (so a host that never had them keeps its direct.xml untouched), and
 * every runtime entry of ours removed.
 *
 * @example
 * ```ts
 * import { planRemove } from "./persist_plan.ts";
 * const plan = planRemove({ chains: [], rules: [], passthroughs: [] }, []);
 * if (plan.permanent !== null || plan.runtime.remove.length !== 0) throw new Error();
 * ```
 */
export function planRemove(
  previous: DirectConfig,
  previousRuntime: readonly DirectEntry[],
): PersistPlan {
  return {
    permanent: permanentOurs(previous).length > 0 ? nextPermanent(previous, []) : null,
    runtime: runtimeChange(oursOf(previousRuntime), []),
  };
}

/**
 * The way back to the state read before a plan was applied, from the runtime
 * entries of ours found now. A plan that failed part-way applied only some of
 * its steps, so the runtime part is worked out from what is there, not
 * from the plan; for a plan applied in full it is exactly its inverse.
 *
 * @example
 * ```ts
 * import { planStore, rollbackPlan } from "./persist_plan.ts";
 * const before = { chains: [], rules: [], passthroughs: [] };
 * const chain = { kind: "chain", ipv: "ipv4", table: "nat", chain: "KUMA_MESH_INBOUND" } as const;
 * planStore(before, [], [chain]);
 * const back = rollbackPlan(before, [], [chain]);
 * if (back.permanent !== before || back.runtime.remove[0] !== chain) throw new Error();
 * ```
 */
export function rollbackPlan(
  previous: DirectConfig,
  previousRuntime: readonly DirectEntry[],
  runtimeNow: readonly DirectEntry[],
): PersistPlan {
  return {
    permanent: previous,
    runtime: runtimeChange(oursOf(runtimeNow), oursOf(previousRuntime)),
  };
}
