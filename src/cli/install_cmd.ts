/**
 * `kuma-tproxy install`: plan the rules, print them (dry run) or apply them
 * all-or-nothing, then clear earlier installations left in other backends or
 * families.
 */
import type { Resolved } from "../config/resolve.ts";
import { parseDurationMs } from "../config/values.ts";
import type { Config } from "../config/types.ts";
import { listeningTcpPorts } from "../host/listeners.ts";
import type { RestoreOptions } from "../iptables/restore_exec.ts";
import { applyPlans } from "../iptables/transaction.ts";
import { uninstallAll } from "../iptables/uninstall.ts";
import { renderDryRun } from "../rules/render.ts";
import { isOurEntry } from "../firewalld/direct_entries.ts";
import { storeInDirectXml, storeWithFirewalld } from "../firewalld/persist.ts";
import {
  checkStoreFirewalld,
  closeFirewalld,
  describePersist,
  directEntriesFor,
  type FirewalldHost,
  probeFirewalld,
  renderFirewalldDryRun,
} from "./firewalld_step.ts";
import { UserError } from "./errors.ts";
import { lockoutWarnings } from "./guards.ts";
import { type CliIo, EXIT } from "./io.ts";
import { info, warn } from "./log.ts";
import { type InstallPlan, planInstall } from "./plan.ts";

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

/**
 * Removes our rules from every backend and family except those in `keep`
 * (`family/mode`): after an apply, leftovers elsewhere; before a firewalld
 * store, rules applied behind firewalld's back.
 */
async function removeEarlier(
  config: Config,
  io: CliIo,
  plan: InstallPlan,
  keep: Set<string>,
): Promise<void> {
  const others = plan.executables.filter((e) => !keep.has(`${e.family}/${e.mode}`));
  if (others.length === 0) return;
  const report = await uninstallAll(io.runner, others, restoreOptions(config, io));
  for (const b of report.backends) {
    if (b.removed.length > 0) {
      info(
        io,
        `removed an earlier installation from IPv${b.family} (${b.mode}): ${b.removed.length} entries`,
      );
    }
  }
}

/** Applies the plan to the kernel, all-or-nothing, rolling back on SIGINT/SIGTERM. */
async function applyToKernel(config: Config, io: CliIo, plan: InstallPlan): Promise<void> {
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
  try {
    await removeEarlier(
      config,
      io,
      plan,
      new Set(plan.families.map((f) => `${f.family}/${f.exe!.mode}`)),
    );
  } catch (e) {
    warn(
      io,
      `the new rules are in place, but an earlier installation elsewhere could not be removed: ${
        (e as Error).message
      }`,
    );
  }
}

/** Restore commands per firewalld `ipv`, from the detected executables. */
function restoreCommands(plan: InstallPlan): { ipv4?: string; ipv6?: string } {
  return Object.fromEntries(
    plan.families.map((f) => [f.family === 4 ? "ipv4" : "ipv6", f.exe!.restore]),
  );
}

/**
 * firewalld runs: it must own the rules (it flushes iptables at every
 * reload), so they go into its permanent and runtime direct config, never
 * behind its back.
 */
async function storeInRunningFirewalld(
  config: Config,
  io: CliIo,
  plan: InstallPlan,
  host: FirewalldHost,
): Promise<void> {
  const bus = host.bus!;
  const runtime = [...await bus.getRuntimeChains(), ...await bus.getRuntimeRules()];
  if (!runtime.some(isOurEntry)) {
    // Ours in iptables but not in firewalld's runtime: applied behind its back
    // (an install without --store-firewalld, or kumactl). firewalld cannot
    // add chains that already exist, so those go first.
    await removeEarlier(config, io, plan, new Set());
  }
  const report = await storeWithFirewalld(
    { bus, runner: io.runner },
    plan.families.map((f) => f.ruleSet),
    {
      verbose: config.verbose,
      comments: plan.families.every((f) => f.comments),
      restoreCommands: restoreCommands(plan),
    },
  );
  for (const line of describePersist(report, "stored")) io.out(`${line}\n`);
}

export async function runInstall(resolved: Resolved, io: CliIo): Promise<number> {
  const config = resolved.config;
  requireRoot(config, io, "install");
  const plan = await planInstall(config, {
    runner: io.runner,
    facts: io.facts,
    origins: resolved.origins,
  });
  for (const w of plan.warnings) warn(io, w);
  if (config.comments.disabled) {
    warn(
      io,
      "comments are disabled: uninstall and re-install cannot tell these rules apart from others",
    );
  }
  const host = await probeFirewalld(io);
  try {
    if (config.storeFirewalld) await checkStoreFirewalld(config, host, plan.families);
    if (config.dryRun) {
      io.out(renderDryRun(plan.families.map((f) => ({ family: f.family, text: f.text }))));
      if (config.storeFirewalld) {
        io.out(renderFirewalldDryRun(host, directEntriesFor(plan.families, config.verbose)));
      }
      return EXIT.OK;
    }
    const guards = lockoutWarnings(config, {
      listeningPorts: await listeningTcpPorts(io.runner),
      firewalldRunning: host.running,
    });
    for (const w of guards) warn(io, w);

    if (config.storeFirewalld && host.running) {
      await storeInRunningFirewalld(config, io, plan, host);
    } else {
      await applyToKernel(config, io, plan);
      if (config.storeFirewalld) {
        // firewalld is installed but stopped: it applies direct.xml at its next start.
        const report = await storeInDirectXml(
          { runner: io.runner },
          plan.families.map((f) => f.ruleSet),
          {
            verbose: config.verbose,
            comments: plan.families.every((f) => f.comments),
            directXmlPath: host.directXmlPath,
            restoreCommands: restoreCommands(plan),
          },
        );
        for (const line of describePersist(report, "stored")) io.out(`${line}\n`);
      }
    }
  } finally {
    closeFirewalld(host);
  }
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
