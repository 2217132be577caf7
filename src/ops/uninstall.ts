/**
 * `kuma-tproxy uninstall`: removes our rules and chains from both families
 * and both backends, whatever installed them (this tool or kumactl 2.9+),
 * and our entries from firewalld. Unlike kumactl it needs no kuma-dp user
 * and honours every config source.
 */
import type { Resolved } from "../config/resolve.ts";
import type { Config } from "../config/types.ts";
import { detectAllExecutables } from "../iptables/executables.ts";
import { UnsafeStateError } from "../iptables/errors.ts";
import { uninstallAll, UninstallError, type UninstallReport } from "../iptables/uninstall.ts";
import {
  closeFirewalld,
  type FirewalldHost,
  probeFirewalld,
  refuseForeignJumps,
} from "./firewalld_step.ts";
import { firewalldFailure, NOTHING, removeFirewalldEntries } from "./firewalld_removal.ts";
import { TARGETS } from "./targets/registry.ts";
import type { Removal } from "./targets/target.ts";
import { UserError } from "./errors.ts";
import { requireRoot } from "./preconditions.ts";
import { restoreOptions } from "./restore_options.ts";
import { info, persistLine, warn } from "./log.ts";
import { removedFrom } from "./report.ts";
import { lookUpNftTable, refuseForeignInOurTable, removeNftTable } from "./nft_step.ts";
import { EXIT } from "./exit_codes.ts";
import type { OpsIo } from "./io.ts";
import { withRunLock } from "./run_lock.ts";
import { countRemoval, formatCounts } from "./counts.ts";

/**
 * Removes our rules from every backend of both families, and our firewalld
 * entries. Exits 0 only when every place that may hold something of ours
 * was read and cleaned; otherwise it removes what it can, then fails with
 * a list of what may remain and which removals were done.
 *
 * @example
 * ```ts ignore
 * const code = await runUninstall(await resolveConfig(inputs, { lenient: true }), io);
 * ```
 */
export async function runUninstall(resolved: Resolved, io: OpsIo): Promise<number> {
  const config = resolved.config;
  requireRoot(io, "uninstall", { dryRun: { enabled: config.dryRun } });
  for (const w of resolved.warnings ?? []) warn(io, `${w}; uninstall ignores it and carries on`);
  if (config.dryRun) return await uninstall(config, io);
  return await withRunLock(io, { exclusive: true }, async () => {
    await (await import("./confirm/pending.ts")).supersedePending(io);
    return await uninstall(config, io);
  });
}

/**
 * A kernel state uninstall refuses (`UnsafeStateError`: a rule not ours
 * jumping to our chain, our chains without our comments) stops it before
 * the boot unit or firewalld's entries change, not after. Only reads; any
 * other problem is left to the removal, which reports it as before.
 */
async function refuseUnsafeKernel(
  io: OpsIo,
  detection: ReturnType<typeof detectAllExecutables>,
): Promise<void> {
  let executables;
  try {
    executables = (await detection).executables;
  } catch {
    return;
  }
  try {
    const readOnly = { wait: 0, waitInterval: 0, maxRetries: 0, sleepMs: 0, dryRun: true };
    await uninstallAll(io.runner, executables, readOnly);
  } catch (e) {
    if (e instanceof UnsafeStateError) throw e;
  }
}

async function uninstall(config: Config, io: OpsIo): Promise<number> {
  const remains: string[] = [];
  let total = 0;
  const realPath = io.facts.realExecutable?.bind(io.facts);
  const detection = detectAllExecutables(io.runner, config, {
    realPath,
    // uninstallAll reads every set's save next, which proves it runs.
    trustFileNames: realPath !== undefined,
  });
  detection.catch(() => {}); // awaited below
  const nftLookup = lookUpNftTable(io);
  nftLookup.catch(() => {}); // awaited below
  // A rule of someone else's jumping to our chain, in firewalld's config or
  // in the kernel, or anything we did not write in our nft table: refused
  // before anything changes, the boot unit included.
  // Anything else that goes wrong reading them is left to the steps below.
  const probed: FirewalldHost | Error = await probeFirewalld(io).catch((e) => e as Error);
  try {
    if (!(probed instanceof Error)) await refuseForeignJumps(probed);
    await refuseUnsafeKernel(io, detection);
    await refuseForeignInOurTable(nftLookup);
  } catch (e) {
    if (!(probed instanceof Error)) closeFirewalld(probed);
    throw e;
  }
  io.report?.mayChange();
  // Persistence first: the targets in the reverse of install's commit order
  // (registry.ts), so the boot unit goes first and the rules do not come
  // back at the next boot behind the user's back; then a running firewalld,
  // an applier, takes its own entries out. A failure there is reported but
  // does not stop the kernel part: uninstall is the emergency path, and
  // rules left in the kernel because a file could not be removed would help
  // nobody.
  const host = probed instanceof Error ? undefined : probed;
  const record = (name: string, r: Removal) => {
    for (const line of r.lines) persistLine(io, name, line);
    for (const w of r.warnings) warn(io, w);
    remains.push(...r.remains);
    total += r.removed;
  };
  try {
    for (const entry of [...TARGETS].reverse()) {
      const target = entry.build("none", { config, io, host });
      record(target.name, await target.remove({ dryRun: config.dryRun }));
    }
    record(
      "firewalld",
      host === undefined
        ? firewalldFailure(probed)
        : host.running || host.unknown
        ? await removeFirewalldEntries(host, config.dryRun)
        : NOTHING,
    );
  } finally {
    if (host) closeFirewalld(host);
  }
  const { executables, uninspectable, warnings } = await detection;
  for (const w of warnings) warn(io, w);
  let report: UninstallReport;
  try {
    report = await uninstallAll(io.runner, executables, {
      ...restoreOptions(config, io),
      dryRun: config.dryRun,
    });
  } catch (e) {
    if (!(e instanceof UninstallError)) throw e;
    report = e.report;
  }
  const verb = report.dryRun ? "would remove" : "removed";
  const removed: string[] = [];
  for (const b of report.backends) {
    const where = `IPv${b.family} (${b.mode})`;
    if (b.error) {
      remains.push(
        b.inspected
          ? `${where}: removing ${formatCounts(countRemoval(b.removed))} failed: ${b.error.message}`
          : `${where}: the rules cannot be read, so ours may remain: ${b.error.message}`,
      );
      continue;
    }
    if (b.removed.length === 0) continue;
    total += b.removed.length;
    const counted = formatCounts(countRemoval(b.removed));
    removed.push(`${where} ${counted}`);
    io.report?.change(removedFrom(b));
    io.out(`${where}: ${verb} ${counted}\n`);
    if (report.dryRun || config.verbose) {
      for (const line of b.removed) io.out(`  ${line}\n`);
    }
  }
  try {
    const nft = await removeNftTable(io, config.dryRun, nftLookup);
    total += nft;
    if (nft > 0) removed.push(`nftables ${nft} rules`);
  } catch (e) {
    remains.push(`nftables: ${(e as Error).message}`);
  }
  for (const u of uninspectable) {
    const where = `IPv${u.family}${u.mode ? ` (${u.mode})` : ""}`;
    const what = `${where} cannot be inspected: ${u.reason}`;
    // --ip-family-mode ipv4 is the operator saying there is no IPv6 of ours.
    if (u.family === 6 && config.ipFamilyMode === "ipv4") warn(io, `${what}; skipped (ipv4 mode)`);
    else remains.push(`${what}; our rules may remain there`);
  }
  io.report?.settle(!config.dryRun && total > 0);
  if (remains.length > 0) {
    const done = removed.length > 0 ? `${verb} from ${removed.join(", ")}, but ` : "";
    const ipv6Only = uninspectable.some((u) => u.family === 6) && config.ipFamilyMode !== "ipv4"
      ? " (on a host that never had IPv6 rules of ours, `uninstall --ip-family-mode ipv4` " +
        "accepts that IPv6 cannot be inspected)"
      : "";
    throw new UserError(
      `uninstall is incomplete: ${done}something of ours may remain:\n` +
        remains.map((r) => `  - ${r}`).join("\n") +
        `\nfix what is named above and run uninstall again${ipv6Only}`,
    );
  }
  if (total === 0) io.out("no transparent proxy rules found\n");
  else if (!report.dryRun) info(io, "transparent proxy rules removed");
  return EXIT.OK;
}
