/**
 * The boot unit as a persistence target: kuma-tproxy.service and its
 * stored config (src/systemd), staged under temporary names and moved into
 * place at commit, which puts the previous files back itself on failure.
 *
 * @module
 */
import type { Config } from "../../config/types.ts";
import { stageBootFiles, type StagedBoot } from "../../systemd/boot_files.ts";
import type { OpsIo } from "../io.ts";
import { bootFiles, bootUnitStatus, systemdHost } from "../systemd_step.ts";
import type { PersistTarget } from "./target.ts";

/** The unit and config for `config` (only "ours": removing the unit is uninstall's and install's `remove-stale-unit`). */
export function systemdTarget(config: Config, io: OpsIo): PersistTarget {
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
  };
}
