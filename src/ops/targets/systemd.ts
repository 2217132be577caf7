/**
 * The boot unit as a persistence target: kuma-tproxy.service and its
 * stored config (src/systemd), staged under temporary names and moved into
 * place at commit, which puts the previous files back itself on failure.
 * Removal disables and removes our unit, config and symlink, and keeps a
 * file of that name we did not write.
 *
 * @module
 */
import { removeBootFiles, stageBootFiles, type StagedBoot } from "../../systemd/boot_files.ts";
import { bootFiles, bootUnitStatus, systemdHost } from "../systemd_step.ts";
import { bootTarget } from "../status_report.ts";
import type { PersistTarget, TargetContext, TargetEntry, TargetWant } from "./target.ts";

/**
 * The unit and config for the config. "none" is for uninstall and status;
 * install only writes "ours" (removing a stale unit is its
 * `remove-stale-unit` step).
 */
export function systemdTarget(want: TargetWant, { config, io }: TargetContext): PersistTarget {
  let staged: StagedBoot | undefined;
  return {
    name: "systemd",
    // Status's comparison: unit, config and the enable link as install writes them.
    matches: async () => (await bootUnitStatus(io, config, { asked: true }))?.matches === true,
    // stageBootFiles refuses a foreign unit and a missing unit directory before writing.
    check: () => Promise.resolve(),
    async stage() {
      staged = await stageBootFiles(systemdHost(io), await bootFiles(config, io));
    },
    async commit() {
      return (await staged!.commit()).lines;
    },
    async discard() {
      await staged?.discard();
    },
    async remove({ dryRun }) {
      try {
        const boot = await removeBootFiles(systemdHost(io), { dryRun });
        return { lines: boot.lines, removed: boot.removed, warnings: [], remains: [] };
      } catch (e) {
        const why = e instanceof Error ? e.message : String(e);
        // A non-root dry run cannot read the 0600 config.
        if (dryRun) {
          return {
            lines: [],
            removed: 0,
            warnings: [`[dry-run] cannot inspect the boot unit: ${why}`],
            remains: [],
          };
        }
        return {
          lines: [],
          removed: 0,
          warnings: [`${why}; removing our kernel rules anyway`],
          remains: [
            `boot unit: ${why}; if our kuma-tproxy.service is still enabled, it applies the ` +
            "rules again at the next boot",
          ],
        };
      }
    },
    async status() {
      const b = await bootUnitStatus(io, config, { asked: want === "ours" });
      return b && bootTarget(b);
    },
  };
}

/** The registry's line: written with --store-systemd where firewalld does not take over. */
export const systemdEntry: TargetEntry = {
  name: "systemd",
  wanted: (choice) => choice.systemd ? "ours" : undefined,
  build: systemdTarget,
};
