/**
 * `kuma-tproxy status`: gathers the facts (what the config would install,
 * what every backend of both families holds of ours) and prints the report
 * that status_report.ts decides. Read-only: it never changes a rule.
 *
 * @module
 */
import type { Resolved } from "../config/resolve.ts";
import type { Config } from "../config/types.ts";
import { LiveDumps } from "../iptables/dumps.ts";
import type { OpsIo } from "./io.ts";
import { warn } from "./log.ts";
import { stoppedFirewalldWarning } from "./guards.ts";
import { type InstallPlan, planInstall } from "./plan.ts";
import {
  closeFirewalld,
  type FirewalldHost,
  firewalldLeavesIptables,
  firewalldPresence,
  persistenceStatus,
  probeFirewalld,
} from "./firewalld_step.ts";
import { persistChoice } from "./systemd_step.ts";
import { TARGETS } from "./targets/registry.ts";
import type { TargetStatus } from "./targets/target.ts";
import {
  type BootUnitStatus,
  type FamilyNote,
  type PendingStatus,
  persistenceTarget,
  type StatusReport,
  statusReport,
} from "./status_report.ts";
import { liveNftables } from "./nft_step.ts";
import { liveIptables, plannedFamilies } from "./current.ts";
import { withRunLock } from "./run_lock.ts";
import { requireRoot } from "./preconditions.ts";

/**
 * What each persistence target holds, in install's commit order, with a
 * running firewalld (an applier, not a target), or one whose state status
 * cannot learn, in direct.xml's place: its permanent config is what
 * survives a reboot there.
 */
async function persistence(
  config: Config,
  io: OpsIo,
  plan: InstallPlan,
  host: FirewalldHost,
): Promise<TargetStatus[]> {
  const targets: TargetStatus[] = [];
  if (host.running || host.unknown) {
    const p = await persistenceStatus(io, config, plan.families, host);
    if (p) targets.push(persistenceTarget(p));
  }
  const choice = persistChoice(config, host);
  const facts = { firewalldRunning: host.running, staleEntries: "none" } as const;
  for (const entry of TARGETS) {
    const want = entry.wanted(choice, facts) ?? "none";
    const t = await entry.build(want, { config, io, plan, host }).status();
    if (t) targets.push(t);
  }
  return targets;
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
  // The comparison install's `current` makes too (current.ts).
  const planned = plannedFamilies(config, plan);
  if (plan.families.some((f) => !f.comments)) {
    warn(
      io,
      "comments are disabled: rules in built-in chains cannot be told apart and are not compared",
    );
  }

  // As for uninstall: --ip-family-mode ipv4 is the operator saying there is no IPv6 of ours.
  const uninspected: FamilyNote[] = plan.uninspectable.filter((u) =>
    !(u.family === 6 && config.ipFamilyMode === "ipv4")
  );
  const { live, unread } = await liveIptables(plan, dumps);
  uninspected.push(...unread);

  const nft = await liveNftables(io, plan.families.map((f) => f.family));
  live.push(...nft.live);
  uninspected.push(...nft.uninspected);

  // One probe for every target (--store-firewalld asks the bus even
  // without /etc/firewalld: it must say that firewalld is not there).
  const host = await probeFirewalld(io, { needBus: config.storeFirewalld });
  try {
    const targets = await persistence(config, io, plan, host);
    const boot = targets.find((t) => t.detail?.mechanism === "systemd")?.detail as
      | BootUnitStatus
      | undefined;
    if (config.backend === "iptables" && boot?.unit === "ours") {
      const stopped = stoppedFirewalldWarning(config, {
        firewalld: firewalldPresence(host),
        leavesIptables: await firewalldLeavesIptables(io, host),
        unit: true,
      });
      if (stopped) warn(io, stopped);
    }
    const report = statusReport({ planned, live, targets, uninspected, skipped: plan.skipped });
    const pending = await pendingStatus(io);
    return pending ? { ...report, report: { ...report.report, pending } } : report;
  } finally {
    closeFirewalld(host);
  }
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
      ...(r.confirmed ? { confirmed: true as const } : {}),
      ...(!r.confirmed && Date.now() >= r.deadline ? { overdue: true as const } : {}),
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
