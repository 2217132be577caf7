/**
 * `kuma-tproxy uninstall`: removes our rules and chains from both families
 * and both backends, whatever installed them (this tool or kumactl 2.9+),
 * and our entries from firewalld. Unlike kumactl it needs no kuma-dp user
 * and honours every config source.
 */
import type { Resolved } from "../config/resolve.ts";
import { describeEntry } from "../firewalld/direct_entries.ts";
import { firewalldState } from "../firewalld/persist.ts";
import { detectAllExecutables } from "../iptables/executables.ts";
import { uninstallAll } from "../iptables/uninstall.ts";
import {
  closeFirewalld,
  describePersist,
  type FirewalldHost,
  probeFirewalld,
  removeOurEntries,
} from "./firewalld_step.ts";
import { requireRoot, restoreOptions } from "./install_cmd.ts";
import { removeBootFiles } from "../systemd/boot_files.ts";
import { systemdHost } from "./systemd_step.ts";
import { info, warn } from "./log.ts";
import { countEntries, countRemoval, formatCounts } from "./counts.ts";
import { type CliIo, EXIT } from "./io.ts";

/**
 * firewalld first: while it runs it owns its runtime rules, so it must take
 * them out itself (deleting them behind its back would make its later
 * removeRule calls fail). Returns how many entries were (or would be) removed.
 */
async function uninstallFirewalld(
  host: FirewalldHost,
  dryRun: boolean,
  io: CliIo,
): Promise<number> {
  if (!host.running && !host.installed) return 0;
  if (dryRun) {
    const state = await firewalldState(
      { bus: host.running ? host.bus : undefined },
      { directXmlPath: host.directXmlPath },
    );
    const places: [string, typeof state.permanent][] = host.running
      ? [["permanent", state.permanent], ["runtime", state.runtime]]
      : [[host.directXmlPath, state.directXml]];
    let total = 0;
    for (const [where, entries] of places) {
      if (!entries || entries.length === 0) continue;
      total += entries.length;
      io.out(`firewalld (${where}): would remove ${formatCounts(countEntries(entries))}\n`);
      for (const e of entries) io.out(`  ${describeEntry(e)}\n`);
    }
    return total;
  }
  const report = await removeOurEntries(host);
  const lines = describePersist(report);
  for (const line of lines) io.out(`${line}\n`);
  return report.removed.permanent.length + report.removed.runtime.length +
    report.removed.directXml.length;
}

export async function runUninstall(resolved: Resolved, io: CliIo): Promise<number> {
  const config = resolved.config;
  requireRoot(config, io, "uninstall");
  // The boot unit first: if anything below fails, the rules must not come
  // back at the next boot behind the user's back. A failure here stops
  // before any rule is touched.
  let total = 0;
  try {
    const boot = await removeBootFiles(systemdHost(io), { dryRun: config.dryRun });
    for (const line of boot.lines) io.out(`${line}\n`);
    total += boot.removed;
  } catch (e) {
    // A non-root dry run cannot read the 0600 config; a real run must stop here.
    if (!config.dryRun) throw e;
    warn(io, `[dry-run] cannot inspect the boot unit: ${(e as Error).message}`);
  }
  const host = await probeFirewalld(io);
  try {
    // firewalld's state unknown: the kernel rules still go, but not silently.
    if (host.unknown) {
      warn(io, `${host.unknown}; firewalld's entries of ours could not be checked or removed`);
    } else total += await uninstallFirewalld(host, config.dryRun, io);
  } finally {
    closeFirewalld(host);
  }
  const { executables, warnings } = await detectAllExecutables(io.runner, config);
  for (const w of warnings) warn(io, w);
  const report = await uninstallAll(io.runner, executables, {
    ...restoreOptions(config, io),
    dryRun: config.dryRun,
  });
  for (const b of report.backends) {
    if (b.removed.length === 0) continue;
    total += b.removed.length;
    const verb = report.dryRun ? "would remove" : "removed";
    io.out(`IPv${b.family} (${b.mode}): ${verb} ${formatCounts(countRemoval(b.removed))}\n`);
    if (report.dryRun || config.verbose) {
      for (const line of b.removed) io.out(`  ${line}\n`);
    }
  }
  if (total === 0) io.out("no transparent proxy rules found\n");
  else if (!report.dryRun) info(io, "transparent proxy rules removed");
  return host.unknown ? EXIT.FAILURE : EXIT.OK;
}
