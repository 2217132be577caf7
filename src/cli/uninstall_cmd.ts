/**
 * `kuma-tproxy uninstall`: removes our rules and chains from both families
 * and both backends, whatever installed them (this tool or kumactl 2.9+).
 * Unlike kumactl it needs no kuma-dp user and honours every config source.
 */
import type { Resolved } from "../config/resolve.ts";
import { detectAllExecutables } from "../iptables/executables.ts";
import { uninstallAll } from "../iptables/uninstall.ts";
import { info, requireRoot, restoreOptions, warn } from "./install_cmd.ts";
import { type CliIo, EXIT } from "./io.ts";

export async function runUninstall(resolved: Resolved, io: CliIo): Promise<number> {
  const config = resolved.config;
  requireRoot(config, io, "uninstall");
  const { executables, warnings } = await detectAllExecutables(io.runner, config);
  for (const w of warnings) warn(io, w);
  const report = await uninstallAll(io.runner, executables, {
    ...restoreOptions(config, io),
    dryRun: config.dryRun,
  });
  let total = 0;
  for (const b of report.backends) {
    if (b.removed.length === 0) continue;
    total += b.removed.length;
    const verb = report.dryRun ? "would remove" : "removed";
    io.out(`IPv${b.family} (${b.mode}): ${verb} ${b.removed.length} entries\n`);
    if (report.dryRun || config.verbose) {
      for (const line of b.removed) io.out(`  ${line}\n`);
    }
  }
  if (total === 0) io.out("no transparent proxy rules found\n");
  else if (!report.dryRun) info(io, "transparent proxy rules removed");
  return EXIT.OK;
}
