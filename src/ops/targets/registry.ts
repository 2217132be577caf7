/**
 * The persistence targets kuma-tproxy knows, in install's commit order, and
 * the one pure choice of which install writes. A new target is a new module
 * beside these and a line in `TARGETS`.
 *
 * @module
 */
import type { PersistChoice } from "../../systemd/choice.ts";
import { directXmlEntry } from "./direct_xml.ts";
import { systemdEntry } from "./systemd.ts";
import type {
  ChoiceFacts,
  PersistTarget,
  TargetContext,
  TargetEntry,
  TargetName,
  TargetWant,
} from "./target.ts";

/**
 * Every target, in install's commit order (the boot files last: a failed
 * commit puts the previous ones back itself). Uninstall removes in the
 * reverse order, so the boot unit goes first: the rules must not come back
 * at the next boot if the rest fails.
 */
export const TARGETS: TargetEntry[] = [directXmlEntry, systemdEntry];

/**
 * Adds a target at the end of {@link TARGETS} (for a target kept outside
 * this folder, and for tests); returns what takes it out again.
 */
export function registerTarget(entry: TargetEntry): () => void {
  if (TARGETS.some((t) => t.name === entry.name)) {
    throw new Error(`a persistence target named ${entry.name} is already registered`);
  }
  TARGETS.push(entry);
  return () => {
    const i = TARGETS.indexOf(entry);
    if (i >= 0) TARGETS.splice(i, 1);
  };
}

/** The target `name`, built for `want`. */
export function buildTarget(
  choice: { name: TargetName; want: TargetWant },
  context: TargetContext,
): PersistTarget {
  const entry = TARGETS.find((t) => t.name === choice.name);
  if (!entry) throw new Error(`no persistence target named ${choice.name}`);
  return entry.build(choice.want, context);
}

/** A target install writes, and what it wants there. */
export interface TargetChoice {
  name: TargetName;
  want: TargetWant;
}

/**
 * The targets install writes, in commit order. From the persistence chosen
 * (`choosePersistence`), whether firewalld runs (it is then an applier, not
 * a target), and where our stale entries are.
 *
 * @example
 * ```ts
 * import { chooseTargets } from "./registry.ts";
 * const t = chooseTargets({ firewalld: true, systemd: false, removeUnit: false }, {
 *   firewalldRunning: false, staleEntries: "none" });
 * if (t.map((x) => `${x.name}:${x.want}`).join() !== "direct.xml:ours") throw new Error();
 * ```
 */
export function chooseTargets(
  choice: Pick<PersistChoice, "firewalld" | "systemd" | "removeUnit">,
  facts: ChoiceFacts,
): TargetChoice[] {
  return TARGETS.flatMap((t) => {
    const want = t.wanted(choice, facts);
    return want ? [{ name: t.name, want }] : [];
  });
}
