/**
 * Whether what install would write is already there: the `current` fact of
 * the install program (install_program.ts). Equal means every family and
 * backend install touches holds exactly the planned rules (status's own
 * comparison, status_report.ts, over the dumps and the nft table this run
 * already read), a running firewalld that applies them holds our entries
 * permanently and at runtime as a store would leave them, nothing of ours
 * is anywhere install would remove it (a boot unit of ours included, where
 * firewalld stores the rules), and every persistence target holds
 * what its commit would write (`PersistTarget.matches`). Reads only; a read
 * that fails counts as "differs", so the normal install runs and reports it.
 *
 * @module
 */
import type { Config } from "../config/types.ts";
import { canonicalRules, canonicalSavedRules } from "../iptables/canonical.ts";
import type { LiveDumps } from "../iptables/dumps.ts";
import { firewalldHolds, firewalldState } from "../firewalld/persist.ts";
import { tableNotOurs } from "../nftables/ownership.ts";
import { EXIT } from "./exit_codes.ts";
import type { FirewalldHost } from "./firewalld_step.ts";
import type { OpsIo } from "./io.ts";
import { nftInstallRecorded } from "./nft_marker.ts";
import { removeBootFiles } from "../systemd/boot_files.ts";
import { systemdHost } from "./systemd_step.ts";
import { liveNftables, type NftLookup, plannedNftables } from "./nft_step.ts";
import type { InstallPlan } from "./plan.ts";
import {
  type FamilyNote,
  type LiveBackend,
  type PlannedFamily,
  statusReport,
} from "./status_report.ts";
import type { PersistTarget } from "./targets/target.ts";

/**
 * What the config would install, per family, as status compares it.
 *
 * @example
 * ```ts ignore
 * const { report } = statusReport({ planned: plannedFamilies(config, plan), live });
 * ```
 */
export function plannedFamilies(config: Config, plan: InstallPlan): PlannedFamily[] {
  return config.backend === "nftables" ? plannedNftables(config, plan) : plan.families
    .filter((f) => f.exe).map((f) => ({
      family: f.family,
      mode: f.exe!.mode,
      // Untagged rules in built-in chains are not recognisable in a dump
      // (comments disabled), so the generated side drops them too.
      expected: canonicalRules(f.text, { oursOnly: true }),
    }));
}

/**
 * What every iptables backend of both families holds of ours, from the
 * dumps as this run first read them (before anything changed); the
 * unreadable ones apart.
 *
 * @example
 * ```ts ignore
 * const { live, unread } = await liveIptables(plan, new LiveDumps(runner));
 * ```
 */
export async function liveIptables(
  plan: InstallPlan,
  dumps: LiveDumps,
): Promise<{ live: LiveBackend[]; unread: FamilyNote[] }> {
  const live: LiveBackend[] = [];
  const unread: FamilyNote[] = [];
  for (const exe of plan.executables) {
    try {
      live.push({
        family: exe.family,
        mode: exe.mode,
        rules: canonicalSavedRules(await dumps.firstRead(exe)),
      });
    } catch (e) {
      unread.push({
        family: exe.family,
        mode: exe.mode,
        reason: `cannot read the rules: ${(e as Error).message}`,
      });
    }
  }
  return { live, unread };
}

/** What {@linkcode currentState} compares. */
export interface CurrentInputs {
  config: Config;
  io: OpsIo;
  plan: InstallPlan;
  host: FirewalldHost;
  /** The dumps this run read while planning, under the run lock. */
  dumps: LiveDumps;
  /** Our nft table as this run read it; undefined: no nft and no nftables install since boot. */
  nftTable: NftLookup | undefined;
  /** A running firewalld applies the rules (--store-firewalld): its direct config must hold them. */
  byFirewalld: boolean;
  /** The persistence targets install would commit. */
  targets: PersistTarget[];
  /** firewalld stores the rules: a boot unit of ours would be removed (`remove-stale-unit`). */
  removeUnit: boolean;
}

/**
 * "equal" when an install would change nothing, else "differs".
 *
 * @example
 * ```ts ignore
 * const current = await currentState({ config, io, plan, host, dumps, nftTable, byFirewalld, targets });
 * ```
 */
export async function currentState(inputs: CurrentInputs): Promise<"equal" | "differs"> {
  try {
    return await isCurrent(inputs) ? "equal" : "differs";
  } catch {
    return "differs";
  }
}

async function isCurrent(inputs: CurrentInputs): Promise<boolean> {
  const { config, io, plan, host, nftTable } = inputs;
  // Comments disabled: our rules in built-in chains cannot be told apart, so not compared.
  if (plan.families.some((f) => !f.comments)) return false;
  const nftables = config.backend === "nftables";
  if (nftTable?.unreadable !== undefined) return false;
  const table = nftTable?.found.table;
  // iptables: any table of ours goes (removeNftTable); one not ours as a whole is for install to judge.
  if (!nftables && table !== undefined) return false;
  if (nftables) {
    if (nftTable?.found.notOurs !== undefined || (table && tableNotOurs(table))) return false;
    // A run without nft later must know the table may be there (nft_marker.ts).
    if (!await nftInstallRecorded(io)) return false;
  }
  const { live, unread } = await liveIptables(plan, inputs.dumps);
  if (unread.length > 0) return false;
  if (nftables && nftTable) {
    const nft = await liveNftables(
      io,
      plan.families.map((f) => f.family),
      Promise.resolve(nftTable),
    );
    if (nft.uninspected.length > 0) return false;
    live.push(...nft.live);
  }
  const { report, exitCode } = statusReport({ planned: plannedFamilies(config, plan), live });
  if (exitCode !== EXIT.OK || report.state !== "installed") return false;
  if (plan.families.some((f) => f.family === 6)) {
    if (!await io.facts.hasAddress(await io.facts.loopbackInterface(), "::6")) return false;
  }
  const options = { verbose: config.verbose, comments: true };
  if (inputs.byFirewalld) {
    if (!await firewalldHolds(host.bus!, plan.families.map((f) => f.ruleSet), options)) {
      return false;
    }
  } else if (nftables && !host.unknown && (host.running || host.installed)) {
    // Our firewalld entries go once the table is in (removeIptablesLeftovers).
    const state = await firewalldState(
      { bus: host.running ? host.bus : undefined },
      { directXmlPath: host.directXmlPath },
    );
    if (state.directXmlError !== undefined) return false;
    if ([state.permanent, state.runtime, state.directXml].some((xs) => (xs ?? []).length > 0)) {
      return false;
    }
  }
  if (inputs.removeUnit) {
    // What the removal would remove, read as its dry run reads it.
    if ((await removeBootFiles(systemdHost(io), { dryRun: true })).removed > 0) return false;
  }
  for (const t of inputs.targets) {
    if (!await t.matches()) return false;
  }
  return true;
}
