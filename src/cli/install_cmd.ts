/**
 * `kuma-tproxy install`: plan the rules, print them (dry run) or apply them
 * all-or-nothing, then clear earlier installations left in other backends or
 * families.
 */
import type { Resolved } from "../config/resolve.ts";
import { parseDurationMs } from "../config/values.ts";
import type { Config } from "../config/types.ts";
import { listeningTcpPorts } from "../host/listeners.ts";
import { detectAllExecutables } from "../iptables/executables.ts";
import type { RestoreOptions } from "../iptables/restore_exec.ts";
import { applyPlans } from "../iptables/transaction.ts";
import { uninstallAll } from "../iptables/uninstall.ts";
import { renderDryRun } from "../rules/render.ts";
import { UserError } from "./errors.ts";
import { lockoutWarnings } from "./guards.ts";
import { type CliIo, EXIT } from "./io.ts";
import { type InstallPlan, planInstall } from "./plan.ts";

/** Logs an informational line on stderr, kumactl style (`# ...`). */
export function info(io: CliIo, line: string): void {
  io.err(`# ${line}\n`);
}

export function warn(io: CliIo, line: string): void {
  io.err(`# [WARNING] ${line}\n`);
}

/** Root check: everything but a dry run changes the host. */
export function requireRoot(config: Config, io: CliIo, what: string): void {
  if (config.dryRun) {
    if (io.uid() !== 0) {
      warn(io, "[dry-run] running as a non-root user: the iptables backend cannot be probed");
    }
    return;
  }
  if (io.uid() !== 0) {
    throw new UserError(
      `${what} needs root privileges; run it as root, or add --dry-run to only show what it would do`,
    );
  }
}

export function restoreOptions(config: Config, io: CliIo): RestoreOptions {
  return {
    wait: config.wait,
    waitInterval: config.waitInterval,
    maxRetries: config.retry.maxRetries,
    sleepMs: parseDurationMs(config.retry.sleepBetweenRetries),
    log: (line) => info(io, line),
  };
}

/** IPv6 inbound passthrough: Envoy connects from ::6, which must exist on the loopback interface. */
async function ensurePassthroughAddress(io: CliIo, loopback: string): Promise<void> {
  const r = await io.runner.run("ip", ["-6", "addr", "add", "::6/128", "dev", loopback]);
  if (r.code !== 0 && !/File exists/i.test(r.stderr)) {
    warn(
      io,
      `could not add ::6/128 to ${loopback} (needed by kuma-dp for IPv6): ${r.stderr.trim()}`,
    );
  }
}

/** Removes our rules from backends and families the new installation does not use. */
async function removeLeftovers(config: Config, io: CliIo, plan: InstallPlan): Promise<void> {
  const used = new Set(plan.families.map((f) => `${f.family}/${f.exe!.mode}`));
  const { executables } = await detectAllExecutables(io.runner, config);
  const others = executables.filter((e) => !used.has(`${e.family}/${e.mode}`));
  if (others.length === 0) return;
  try {
    const report = await uninstallAll(io.runner, others, restoreOptions(config, io));
    for (const b of report.backends) {
      if (b.removed.length > 0) {
        info(
          io,
          `removed an earlier installation from IPv${b.family} (${b.mode}): ${b.removed.length} entries`,
        );
      }
    }
  } catch (e) {
    warn(
      io,
      `the new rules are in place, but an earlier installation elsewhere could not be removed: ${
        (e as Error).message
      }`,
    );
  }
}

export async function runInstall(resolved: Resolved, io: CliIo): Promise<number> {
  const config = resolved.config;
  requireRoot(config, io, "install");
  const plan = await planInstall(config, io);
  for (const w of plan.warnings) warn(io, w);
  if (config.comments.disabled) {
    warn(
      io,
      "comments are disabled: uninstall and re-install cannot tell these rules apart from others",
    );
  }

  if (config.dryRun) {
    io.out(renderDryRun(plan.families.map((f) => ({ family: f.family, text: f.text }))));
    return EXIT.OK;
  }

  const guards = lockoutWarnings(config, {
    listeningPorts: await listeningTcpPorts(),
    firewalldRunning: false,
  });
  for (const w of guards) warn(io, w);

  info(
    io,
    "applying the transparent proxy rules; SSH connections through redirected ports may drop",
  );
  const controller = new AbortController();
  const stopListening = io.onInterrupt(() => {
    warn(io, "interrupted: finishing the current step, then putting the previous rules back");
    controller.abort();
  });
  try {
    const report = await applyPlans(
      io.runner,
      plan.families.map((f) => ({ exe: f.exe!, rulesText: f.text })),
      { ...restoreOptions(config, io), signal: controller.signal },
    );
    for (const f of report.families) {
      if (f.removed.length > 0) {
        info(
          io,
          `replaced an earlier installation in IPv${f.family} (${f.mode}): ${f.removed.length} entries`,
        );
      }
    }
  } finally {
    stopListening();
  }
  await removeLeftovers(config, io, plan);
  if (plan.families.some((f) => f.family === 6)) {
    await ensurePassthroughAddress(io, await io.facts.loopbackInterface());
  }
  for (const f of plan.families) {
    const rules = f.ruleSet.tables.reduce((n, t) => n + t.rules.length, 0);
    io.out(`IPv${f.family}: installed ${rules} rules (${f.exe!.mode})\n`);
  }
  info(io, "transparent proxy installed; run kuma-dp with the transparent proxy enabled");
  return EXIT.OK;
}
