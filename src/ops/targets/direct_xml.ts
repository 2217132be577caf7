/**
 * A stopped firewalld's direct.xml as a persistence target: firewalld
 * applies it at its next start. "ours" stores the config's entries (with
 * --store-firewalld), "none" removes entries of ours an earlier
 * --store-firewalld left (they would bring that rule set back). The file is
 * replaced atomically at commit (src/os/durable_file.ts), so there is
 * nothing to stage or discard. While firewalld runs, direct.xml is its
 * permanent config and firewalld the applier (firewalld_step.ts): this
 * target then neither removes nor reports anything, the applier does.
 *
 * @module
 */
import { FirewalldError } from "../../firewalld/errors.ts";
import { assertReplaceable } from "../../firewalld/direct_xml_file.ts";
import { directXmlHolds, storeInDirectXml } from "../../firewalld/persist.ts";
import {
  describePersist,
  type FirewalldHost,
  persistenceStatus,
  removeStaleEntries,
} from "../firewalld_step.ts";
import { NOTHING, removeFirewalldEntries } from "../firewalld_removal.ts";
import { type InstallPlan, restoreCommands } from "../plan.ts";
import { persistenceTarget } from "../status_report.ts";
import type { PersistTarget, TargetContext, TargetEntry, TargetWant } from "./target.ts";

/** Where direct.xml is ours to write: firewalld installed, not running, its state known. */
function stopped(host: FirewalldHost | undefined): host is FirewalldHost {
  return host !== undefined && !host.running && host.unknown === undefined;
}

function needed<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`the direct.xml target needs ${what} here`);
  return value;
}

export function directXmlTarget(want: TargetWant, context: TargetContext): PersistTarget {
  const { config, io } = context;
  const host = () => needed(context.host, "the firewalld probe");
  const plan = (): InstallPlan => needed(context.plan, "the install plan");
  return {
    name: "direct.xml",
    // The file as commit would edit it, compared with the file as it is.
    matches: () =>
      directXmlHolds(want === "none" ? [] : plan().families.map((f) => f.ruleSet), {
        verbose: config.verbose,
        comments: plan().families.every((f) => f.comments),
        directXmlPath: host().directXmlPath,
      }),
    async check() {
      const path = host().directXmlPath;
      // "ours": checkStoreFirewalld ran the other refusals, before the dry run;
      // the write probe is here, so that an unchanged install skips it.
      if (want === "ours") return await assertReplaceable(path);
      try {
        await assertReplaceable(path);
      } catch (e) {
        if (!(e instanceof FirewalldError)) throw e;
        throw new FirewalldError(
          e.code,
          `${path} holds entries of ours from an earlier --store-firewalld, which ` +
            "would bring that rule set back at firewalld's next start, so install must remove " +
            `them, but: ${e.message}`,
          { path: e.path, cause: e },
        );
      }
    },
    stage: () => Promise.resolve(),
    async commit() {
      const report = want === "none" ? await removeStaleEntries(host()) : await storeInDirectXml(
        { runner: io.runner },
        plan().families.map((f) => f.ruleSet),
        {
          verbose: config.verbose,
          comments: plan().families.every((f) => f.comments),
          directXmlPath: host().directXmlPath,
          restoreCommands: restoreCommands(plan()),
        },
      );
      return describePersist(report);
    },
    discard: () => Promise.resolve(),
    // Our entries only (isOurEntry): an admin's entries stay in the file.
    remove: ({ dryRun }) =>
      stopped(context.host) && context.host.installed
        ? removeFirewalldEntries(context.host, dryRun)
        : Promise.resolve(NOTHING),
    async status() {
      if (!stopped(context.host)) return undefined;
      const p = await persistenceStatus(io, config, plan().families, context.host);
      return p && persistenceTarget(p);
    },
  };
}

/** The registry's line: stored with --store-firewalld while firewalld is stopped, emptied of stale entries. */
export const directXmlEntry: TargetEntry = {
  name: "direct.xml",
  wanted: (choice, facts) =>
    choice.firewalld && !facts.firewalldRunning
      ? "ours"
      : !choice.firewalld && facts.staleEntries === "direct.xml"
      ? "none"
      : undefined,
  build: directXmlTarget,
};
