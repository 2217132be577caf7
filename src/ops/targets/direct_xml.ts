/**
 * A stopped firewalld's direct.xml as a persistence target: firewalld
 * applies it at its next start. "ours" stores the config's entries (with
 * --store-firewalld), "none" removes entries of ours an earlier
 * --store-firewalld left (they would bring that rule set back). The file is
 * replaced atomically at commit (src/os/durable_file.ts), so there is
 * nothing to stage or discard.
 *
 * @module
 */
import type { Config } from "../../config/types.ts";
import { FirewalldError } from "../../firewalld/errors.ts";
import { assertReplaceable } from "../../firewalld/direct_xml_file.ts";
import { directXmlHolds, storeInDirectXml } from "../../firewalld/persist.ts";
import { describePersist, type FirewalldHost, removeStaleEntries } from "../firewalld_step.ts";
import type { OpsIo } from "../io.ts";
import { type InstallPlan, restoreCommands } from "../plan.ts";
import type { PersistTarget, TargetWant } from "./target.ts";

export function directXmlTarget(
  want: TargetWant,
  context: { config: Config; io: OpsIo; plan: InstallPlan; host: FirewalldHost },
): PersistTarget {
  const { config, io, plan, host } = context;
  return {
    name: "direct.xml",
    // The file as commit would edit it, compared with the file as it is.
    matches: () =>
      directXmlHolds(want === "none" ? [] : plan.families.map((f) => f.ruleSet), {
        verbose: config.verbose,
        comments: plan.families.every((f) => f.comments),
        directXmlPath: host.directXmlPath,
      }),
    async check() {
      // "ours": checkStoreFirewalld ran the other refusals, before the dry run;
      // the write probe is here, so that an unchanged install skips it.
      if (want === "ours") return await assertReplaceable(host.directXmlPath);
      try {
        await assertReplaceable(host.directXmlPath);
      } catch (e) {
        if (!(e instanceof FirewalldError)) throw e;
        throw new FirewalldError(
          e.code,
          `${host.directXmlPath} holds entries of ours from an earlier --store-firewalld, which ` +
            "would bring that rule set back at firewalld's next start, so install must remove " +
            `them, but: ${e.message}`,
          { path: e.path, cause: e },
        );
      }
    },
    stage: () => Promise.resolve(),
    async commit() {
      const report = want === "none" ? await removeStaleEntries(host) : await storeInDirectXml(
        { runner: io.runner },
        plan.families.map((f) => f.ruleSet),
        {
          verbose: config.verbose,
          comments: plan.families.every((f) => f.comments),
          directXmlPath: host.directXmlPath,
          restoreCommands: restoreCommands(plan),
        },
      );
      return describePersist(report);
    },
    discard: () => Promise.resolve(),
  };
}
