/**
 * `kuma-tproxy status`: gathers the facts (what the config would install,
 * what every backend of both families holds of ours) and prints the report
 * that status_report.ts decides. Read-only: it never changes a rule.
 *
 * @module
 */
import type { Resolved } from "../config/resolve.ts";
import type { Config } from "../config/types.ts";
import { canonicalRules, canonicalSavedRules } from "../iptables/canonical.ts";
import { LiveDumps } from "../iptables/dumps.ts";
import type { OpsIo } from "./io.ts";
import { warn } from "./log.ts";
import { stoppedFirewalldWarning } from "./guards.ts";
import { planInstall } from "./plan.ts";
import {
  closeFirewalld,
  firewalldLeavesIptables,
  persistenceStatus,
  probeFirewalld,
} from "./firewalld_step.ts";
import { bootUnitStatus, persistChoice } from "./systemd_step.ts";
import {
  type FamilyNote,
  type LiveBackend,
  type PendingStatus,
  type PlannedFamily,
  type StatusReport,
  statusReport,
} from "./status_report.ts";
import { liveNftables, plannedNftables } from "./nft_step.ts";
import { withRunLock } from "./run_lock.ts";
import { requireRoot } from "./preconditions.ts";

/** Whether install with this config would write the boot unit (it does not where firewalld takes over). */
async function bootAsked(config: Config, io: OpsIo): Promise<boolean> {
  if (!config.storeSystemd) return false;
  if (!config.storeFirewalld) return true;
  const host = await probeFirewalld(io, { needBus: true });
  try {
    return persistChoice(config, host).systemd;
  } finally {
    closeFirewalld(host);
  }
}

/** Whether firewalld runs, is installed but stopped, or is absent (unknown reads as absent). */
async function firewalldPresence(
  io: OpsIo,
): Promise<{ firewalld: "running" | "stopped" | "absent"; leavesIptables: boolean }> {
  const host = await probeFirewalld(io);
  try {
    return {
      firewalld: host.running ? "running" : host.installed && !host.unknown ? "stopped" : "absent",
      leavesIptables: await firewalldLeavesIptables(io, host),
    };
  } finally {
    closeFirewalld(host);
  }
}

/**
 * Returns the status report and its exit code (exit_codes.ts): 0 installed
 * and matching the config, 3 installed but different or partly unreadable,
 * 4 not installed. Throws a `UserError` (exit 1) when not run as root.
 *
 * @example
 * ```ts ignore
 * const { report, exitCode } = await runStatus(await resolveConfig(inputs), io);
 * ```
 */
export async function runStatus(
  resolved: Resolved,
  io: OpsIo,
): Promise<{ report: StatusReport; exitCode: number }> {
  requireRoot(io, "status", {
    why: "iptables-save cannot read the rules without CAP_NET_ADMIN",
  });
  // Shared: status runs beside other readers, but never sees an install or
  // uninstall half-done (one family switched, the other not yet).
  return await withRunLock(io, { exclusive: false }, () => status(resolved, io));
}

async function status(
  resolved: Resolved,
  io: OpsIo,
): Promise<{ report: StatusReport; exitCode: number }> {
  // A dry-run plan would quietly assume a UID and a full-featured host;
  // status must compare against what install would really generate here.
  const config = { ...resolved.config, dryRun: false };
  // Every backend's dump is read below: beside the plan's probes, and once
  // (the shared run lock keeps install and uninstall out meanwhile).
  const dumps = new LiveDumps(io.runner);
  const plan = await planInstall(config, {
    runner: io.runner,
    facts: io.facts,
    origins: resolved.origins,
    dumps,
    prefetchDumps: true,
  });
  for (const w of plan.warnings) warn(io, w);
  const planned: PlannedFamily[] = config.backend === "nftables"
    ? plannedNftables(config, plan)
    : plan.families.filter((f) => f.exe).map((f) => ({
      family: f.family,
      mode: f.exe!.mode,
      // Untagged rules in built-in chains are not recognisable in a dump
      // (comments disabled), so the generated side drops them too.
      expected: canonicalRules(f.text, { oursOnly: true }),
    }));
  if (plan.families.some((f) => !f.comments)) {
    warn(
      io,
      "comments are disabled: rules in built-in chains cannot be told apart and are not compared",
    );
  }

  const live: LiveBackend[] = [];
  // As for uninstall: --ip-family-mode ipv4 is the operator saying there is no IPv6 of ours.
  const uninspected: FamilyNote[] = plan.uninspectable.filter((u) =>
    !(u.family === 6 && config.ipFamilyMode === "ipv4")
  );
  for (const exe of plan.executables) {
    try {
      live.push({
        family: exe.family,
        mode: exe.mode,
        rules: canonicalSavedRules(await dumps.read(exe)),
      });
    } catch (e) {
      uninspected.push({
        family: exe.family,
        mode: exe.mode,
        reason: `cannot read the rules: ${(e as Error).message}`,
      });
    }
  }

  live.push(...await liveNftables(io, plan.families.map((f) => f.family)));

  const persistence = await persistenceStatus(io, config, plan.families);
  const boot = await bootUnitStatus(io, config, { asked: await bootAsked(config, io) });
  if (config.backend === "iptables" && boot?.unit === "ours") {
    const stopped = stoppedFirewalldWarning(config, { ...await firewalldPresence(io), unit: true });
    if (stopped) warn(io, stopped);
  }
  const report = statusReport({
    planned,
    live,
    persistence,
    boot,
    uninspected,
    skipped: plan.skipped,
  });
  const pending = await pendingStatus(io);
  return pending ? { ...report, report: { ...report.report, pending } } : report;
}

/** The install waiting for confirmation, if any; an unreadable record is a warning. */
async function pendingStatus(io: OpsIo): Promise<PendingStatus | undefined> {
  const { readRecord } = await import("./confirm/record.ts");
  try {
    const r = await readRecord(io);
    if (!r) return undefined;
    return {
      deadline: new Date(r.deadline).toISOString(),
      startedAt: new Date(r.startedAt).toISOString(),
      applied: r.applied,
      deferred: [
        ...r.persist.targets.map((t) => t.want === "ours" ? t.name : `${t.name} (remove ours)`),
        ...(r.persist.removeUnit ? ["systemd (remove)"] : []),
        ...(r.persist.firewalld ? ["firewalld (permanent)"] : []),
      ],
    };
  } catch (e) {
    warn(io, `cannot read the record of a pending install: ${(e as Error).message}`);
    return undefined;
  }
}
