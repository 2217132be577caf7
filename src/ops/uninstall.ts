/**
 * `kuma-tproxy uninstall`: removes our rules and chains from both families
 * and both backends, whatever installed them (this tool or kumactl 2.9+),
 * and our entries from firewalld. Unlike kumactl it needs no kuma-dp user
 * and honours every config source.
 */
import type { Resolved } from "../config/resolve.ts";
import type { Config } from "../config/types.ts";
import { describeEntry } from "../firewalld/direct_entries.ts";
import { firewalldState } from "../firewalld/persist.ts";
import { FirewalldError } from "../firewalld/errors.ts";
import { detectAllExecutables } from "../iptables/executables.ts";
import { UnsafeStateError } from "../iptables/errors.ts";
import { uninstallAll, UninstallError, type UninstallReport } from "../iptables/uninstall.ts";
import {
  closeFirewalld,
  describePersist,
  type FirewalldHost,
  probeFirewalld,
  refuseForeignJumps,
  removeOurEntries,
} from "./firewalld_step.ts";
import { UserError } from "./errors.ts";
import { requireRoot } from "./preconditions.ts";
import { restoreOptions } from "./restore_options.ts";
import { info, persistLine, warn } from "./log.ts";
import { removedFrom } from "./report.ts";
import { lookUpNftTable, refuseForeignInOurTable, removeNftTable } from "./nft_step.ts";
import { EXIT } from "./exit_codes.ts";
import type { OpsIo } from "./io.ts";
import { withRunLock } from "./run_lock.ts";
import { removeBootFiles } from "../systemd/boot_files.ts";
import { systemdHost } from "./systemd_step.ts";
import { countEntries, countRemoval, formatCounts } from "./counts.ts";

/** What uninstall found and did in firewalld. */
interface FirewalldOutcome {
  /** Entries removed (or, in a dry run, that would be). */
  count: number;
  /** What of ours may remain there, when something could not be read. */
  remains?: string;
}

/**
 * What is left in a direct.xml we cannot parse, and how to remove it by
 * hand: the file is never rewritten then, since we cannot tell our entries
 * from the rest (the same test as `isOurEntry`).
 */
function malformedDirectXml(path: string, e: Error): string {
  return leftInDirectXml(`${path} cannot be parsed (${e.message}), so it was left untouched`);
}

/**
 * The same for a direct.xml that cannot be read (too large, not a regular
 * file, not UTF-8: firewalld also takes an `encoding="ISO-8859-1"` file,
 * our reader does not) or written (a read-only or full file system).
 */
function leftInDirectXml(what: string): string {
  return `${what}, and any of our ` +
    `entries in it remain; firewalld applies them at its next start. Edit it by hand: delete ` +
    `every <chain> whose chain starts with KUMA_MESH_, and every <rule> that sits in such a ` +
    `chain or carries --comment kuma/mesh/transparent/proxy/... (a rule of yours that jumps to a ` +
    `KUMA_MESH_ chain must go or change too: firewalld fails on a jump to a missing chain); ` +
    `then run uninstall again`;
}

/**
 * firewalld first: while it runs it owns its runtime rules, so it must take
 * them out itself (deleting them behind its back would make its later
 * removeRule calls fail). A direct.xml that cannot be parsed does not stop
 * the uninstall: the kernel rules are the emergency, the file stays as it is.
 */
async function uninstallFirewalld(
  host: FirewalldHost,
  dryRun: boolean,
  io: OpsIo,
): Promise<FirewalldOutcome> {
  if (!host.running && !host.installed) return { count: 0 };
  if (dryRun) {
    const state = await firewalldState(
      { bus: host.running ? host.bus : undefined },
      { directXmlPath: host.directXmlPath },
    );
    const places: [string, typeof state.permanent][] = host.running
      ? [["permanent", state.permanent], ["runtime", state.runtime]]
      : [[host.directXmlPath, state.directXml]];
    let count = 0;
    for (const [where, entries] of places) {
      if (!entries || entries.length === 0) continue;
      count += entries.length;
      const target = host.running ? "firewalld" : "direct.xml";
      persistLine(
        io,
        target,
        `firewalld (${where}): would remove ${formatCounts(countEntries(entries))}`,
      );
      for (const e of entries) persistLine(io, target, `  ${describeEntry(e)}`);
    }
    if (host.running || state.directXmlError === undefined) return { count };
    const e = new Error(state.directXmlError);
    return {
      count,
      remains: state.directXmlErrorCode === "malformed_direct_xml"
        ? malformedDirectXml(host.directXmlPath, e)
        : leftInDirectXml(state.directXmlError),
    };
  }
  let report;
  try {
    report = await removeOurEntries(host);
  } catch (e) {
    if (e instanceof FirewalldError && e.code === "malformed_direct_xml") {
      return { count: 0, remains: malformedDirectXml(host.directXmlPath, e) };
    }
    // Stopped firewalld: direct.xml could not be read or written (the
    // firewalld part changed nothing else). Running: it answered and failed.
    if (!host.running && e instanceof FirewalldError) {
      return { count: 0, remains: leftInDirectXml(e.message) };
    }
    throw e;
  }
  for (const line of describePersist(report)) {
    persistLine(io, host.running ? "firewalld" : "direct.xml", line);
  }
  return {
    count: report.removed.permanent.length + report.removed.runtime.length +
      report.removed.directXml.length,
  };
}

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
  // The boot unit first, so that the rules do not come back at the next
  // boot behind the user's back. A failure here is reported but does not
  // stop the kernel part: uninstall is the emergency path, and rules left in
  // the kernel because a file could not be removed would help nobody.
  try {
    const boot = await removeBootFiles(systemdHost(io), { dryRun: config.dryRun });
    for (const line of boot.lines) persistLine(io, "systemd", line);
    total += boot.removed;
  } catch (e) {
    const why = errorText(e);
    if (config.dryRun) {
      // A non-root dry run cannot read the 0600 config.
      warn(io, `[dry-run] cannot inspect the boot unit: ${why}`);
    } else {
      warn(io, `${why}; removing our kernel rules anyway`);
      remains.push(
        `boot unit: ${why}; if our kuma-tproxy.service is still enabled, it applies the rules ` +
          "again at the next boot",
      );
    }
  }
  try {
    if (probed instanceof Error) throw probed;
    const host = probed;
    try {
      if (host.unknown) {
        // firewalld's state unknown: the kernel rules still go, but not silently.
        warn(io, `${host.unknown}; firewalld's entries of ours could not be checked or removed`);
        remains.push(`firewalld: ${host.unknown}; its entries of ours were not checked`);
      } else {
        const fw = await uninstallFirewalld(host, config.dryRun, io);
        total += fw.count;
        if (fw.remains) {
          warn(io, `${host.directXmlPath} was left as it is; removing our kernel rules anyway`);
          remains.push(fw.remains);
        }
      }
    } finally {
      closeFirewalld(host);
    }
  } catch (e) {
    const why = errorText(e);
    warn(io, `firewalld: ${why}; removing our kernel rules anyway`);
    // Where firewalld runs, its runtime copy of our rules no longer matches
    // the kernel once they are gone: a reload makes it consistent again.
    remains.push(
      `firewalld: ${why}; its entries of ours may remain (where it runs: ` +
        "`firewall-cmd --reload`, then run uninstall again)",
    );
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

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
