/**
 * The persistence targets install knows, and the one pure choice of which
 * it writes. A new target is a new module beside these and a line in
 * `TARGETS`.
 *
 * @module
 */
import type { Config } from "../../config/types.ts";
import type { PersistChoice } from "../../systemd/choice.ts";
import type { FirewalldHost } from "../firewalld_step.ts";
import type { OpsIo } from "../io.ts";
import type { InstallPlan } from "../plan.ts";
import { directXmlTarget } from "./direct_xml.ts";
import { systemdTarget } from "./systemd.ts";
import type { PersistTarget, TargetName, TargetWant } from "./target.ts";

/** What a target is built from. */
export interface TargetContext {
  config: Config;
  io: OpsIo;
  plan: InstallPlan;
  host: FirewalldHost;
}

/** Every target, by name. */
export const TARGETS: Record<TargetName, (want: TargetWant, c: TargetContext) => PersistTarget> = {
  "direct.xml": directXmlTarget,
  "systemd": (_want, c) => systemdTarget(c.config, c.io),
};

/** A target install writes, and what it wants there. */
export interface TargetChoice {
  name: TargetName;
  want: TargetWant;
}

/**
 * The targets install writes, in commit order (the boot files last: a
 * failed commit puts the previous ones back itself). From the persistence
 * chosen (`choosePersistence`), whether firewalld runs (it is then an
 * applier, not a target), and where our stale entries are.
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
  facts: { firewalldRunning: boolean; staleEntries: "none" | "dbus" | "direct.xml" },
): TargetChoice[] {
  const targets: TargetChoice[] = [];
  if (choice.firewalld && !facts.firewalldRunning) {
    targets.push({ name: "direct.xml", want: "ours" });
  } else if (!choice.firewalld && facts.staleEntries === "direct.xml") {
    targets.push({ name: "direct.xml", want: "none" });
  }
  if (choice.systemd) targets.push({ name: "systemd", want: "ours" });
  return targets;
}
