/**
 * `kuma-tproxy install`: plan the rules, print them (dry run) or apply them
 * all-or-nothing, then clear earlier installations left in other backends or
 * families.
 */
import type { Resolved } from "../config/resolve.ts";
import type { Config } from "../config/types.ts";
import { listeningTcpPorts } from "../host/listeners.ts";
import { LiveDumps } from "../iptables/dumps.ts";
import {
  applyPlans,
  commitPlans,
  describeRollbacks,
  type PreparedPlans,
  preparePlans,
  rollBackTo,
  snapshot,
} from "../iptables/transaction.ts";
import { uninstallAll } from "../iptables/uninstall.ts";
import { renderDryRun } from "../rules/render.ts";
import { isOurEntry } from "../firewalld/direct_entries.ts";
import { FirewalldError } from "../firewalld/errors.ts";
import { type PersistReport, storeWithFirewalld } from "../firewalld/persist.ts";
import type { FlushRegime } from "../firewalld/flush_regime.ts";
import {
  atNextStart,
  checkFirewalldFlush,
  checkInboundRedirect,
  checkStoreFirewalld,
  closeFirewalld,
  describePersist,
  describeStaleDryRun,
  directEntriesFor,
  findStaleEntries,
  type FirewalldHost,
  firewalldLeavesIptables,
  firewalldPresence,
  FLUSH_WARNING,
  probeFirewalld,
  removeStaleEntries,
  renderFirewalldDryRun,
  STALE_NOTE,
} from "./firewalld_step.ts";
import { countRemoval, countRuleSet, formatCounts } from "./counts.ts";
import { removeBootFiles } from "../systemd/boot_files.ts";
import {
  persistChoice,
  renderSystemdDryRun,
  staleUnitWarning,
  systemdHost,
} from "./systemd_step.ts";
import { exitCodeOf, isUserError, UserError } from "./errors.ts";
import { lockoutWarnings, stoppedFirewalldWarning } from "./guards.ts";
import { EXIT } from "./exit_codes.ts";
import type { OpsIo } from "./io.ts";
import { info, persistLine, reportUnchanged, warn } from "./log.ts";
import { iptablesBackend, removedFrom } from "./report.ts";
import { type InstallPlan, planInstall, restoreCommands } from "./plan.ts";
import {
  assertNftTableRemovable,
  installWithNftables,
  lookUpNftTable,
  type NftLookup,
  removeNftTable,
} from "./nft_step.ts";
import { holdUntilFinished } from "./switch_interrupt.ts";
import { withRunLock } from "./run_lock.ts";
import { requireRoot } from "./preconditions.ts";
import { restoreOptions } from "./restore_options.ts";
import { installProgram, targetsOf } from "./install_program.ts";
import { currentState } from "./current.ts";
import { buildTarget } from "./targets/registry.ts";
import type { PersistTarget, TargetName } from "./targets/target.ts";
import { runProgram } from "./execute.ts";
import type { InstallHooks } from "./confirm/hooks.ts";

/**
 * IPv6 inbound passthrough: Envoy connects from ::6, which must exist on the
 * loopback interface. Already there (an earlier install added it) is
 * success: iproute2 reports that as `RTNETLINK answers: File exists` (older)
 * or `Error: ipv6: address already assigned.` (newer, kernel extack), so the
 * address is looked for first (in the interface list, no command) and both
 * answers are accepted for a race. Only when the plan configures IPv6.
 */
async function ensurePassthroughAddress(io: OpsIo, plan: InstallPlan): Promise<void> {
  if (!plan.families.some((f) => f.family === 6)) return;
  const loopback = await io.facts.loopbackInterface();
  if (await io.facts.hasAddress(loopback, "::6")) return;
  const r = await io.runner.run("ip", ["-6", "addr", "add", "::6/128", "dev", loopback]);
  if (r.code !== 0 && !/File exists|already assigned/i.test(r.stderr)) {
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
  io: OpsIo,
  plan: InstallPlan,
  keep: Set<string>,
  dumps: LiveDumps,
): Promise<void> {
  const others = plan.executables.filter((e) => !keep.has(`${e.family}/${e.mode}`));
  if (others.length === 0) return;
  const report = await uninstallAll(io.runner, others, { ...restoreOptions(config, io), dumps });
  for (const b of report.backends) {
    if (b.removed.length > 0) {
      io.report?.change(removedFrom(b));
      info(
        io,
        `IPv${b.family} (${b.mode}): removed an earlier installation: ${
          formatCounts(countRemoval(b.removed))
        }`,
      );
    }
  }
}

/**
 * Applies the plan to the kernel, all-or-nothing, rolling back on
 * SIGINT/SIGTERM. `persist` (storing the rules in direct.xml) is the last
 * step of the same transaction: if it fails, the kernel is rolled back too,
 * and the error says so.
 */
async function applyToKernel(
  config: Config,
  io: OpsIo,
  plan: InstallPlan,
  dumps: LiveDumps,
  persist?: () => Promise<void>,
  pretest?: Pretest,
): Promise<() => void> {
  info(
    io,
    "applying the transparent proxy rules; SSH connections through redirected ports may drop",
  );
  const controller = new AbortController();
  const stopListening = io.onInterrupt(() => {
    warn(io, "interrupted: finishing the current step, then putting the previous rules back");
    controller.abort();
  });
  let finishing: () => void;
  try {
    const options = { ...restoreOptions(config, io), signal: controller.signal, persist, dumps };
    const report = pretest
      ? await commitPlans(io.runner, await pretest.release(), options)
      : await applyPlans(io.runner, familyRestores(plan), options);
    // The new rules are in: from here an interrupt finishes the switch (the
    // earlier installation elsewhere goes), never leaves both. Registered
    // before the apply's handler goes, so no signal finds none (and kills us).
    finishing = holdUntilFinished(io);
    for (const f of report.families) {
      if (f.removed.length > 0) {
        io.report?.change({
          family: f.family,
          backend: iptablesBackend(f.mode),
          action: "replaced",
          via: "kernel",
          ...countRemoval(f.removed),
        });
        info(
          io,
          `IPv${f.family} (${f.mode}): replaced an earlier installation: ${
            formatCounts(countRemoval(f.removed))
          }`,
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
      dumps,
    );
  } catch (e) {
    warn(
      io,
      `the new rules are in place, but an earlier installation elsewhere could not be removed: ${
        (e as Error).message
      }`,
    );
  }
  return finishing;
}

/** What `applyPlans` applies: each family's executables and restore text. */
function familyRestores(plan: InstallPlan) {
  return plan.families.map((f) => ({ exe: f.exe!, rulesText: f.text }));
}

/**
 * The apply's first two steps (read the live rules, `--test` every family
 * whose restore is not one transaction: transaction.ts's oneTransaction)
 * run ahead, while the firewalld probe loads its D-Bus client: a test
 * waits on the kernel (an nft abort waits out an RCU grace period), the
 * probe on the CPU. With the default config on nft there is no test, and
 * this only reads. It changes nothing, so it is only used when nothing
 * changed the rules before the apply (the plain path: no firewalld step that
 * touches the kernel first); every other path waits for it to finish and
 * then tests again itself. Its progress lines are held until the apply
 * starts, so they appear where they always did.
 */
interface Pretest {
  /** Finished, failed or not: nothing may change the rules before. */
  settled: Promise<void>;
  /** Writes the held lines, then lets later ones through; the read and tested plans. */
  release(): Promise<PreparedPlans>;
}

function startPretest(
  config: Config,
  io: OpsIo,
  planning: Promise<InstallPlan>,
  before: Promise<void>,
  dumps: LiveDumps,
): Pretest {
  const held: string[] = [];
  let live = false;
  const options = restoreOptions(config, io);
  const log = (line: string) => live ? options.log!(line) : void held.push(line);
  const prepared = Promise.all([planning, before]).then(([plan]) =>
    preparePlans(io.runner, familyRestores(plan), { ...options, log, dumps })
  );
  const settled = prepared.then(() => {}, () => {});
  return {
    settled,
    release() {
      live = true;
      for (const line of held.splice(0)) options.log!(line);
      return prepared;
    },
  };
}

/**
 * firewalld runs: it must own the rules (it flushes iptables at every
 * reload), so they go into its permanent and runtime direct config, never
 * behind its back.
 */
async function storeInRunningFirewalld(
  config: Config,
  io: OpsIo,
  plan: InstallPlan,
  host: FirewalldHost,
  dumps: LiveDumps,
  runtimeOnly = false,
): Promise<void> {
  const bus = host.bus!;
  // If firewalld leaves the bus mid-way, the kernel goes back to this.
  const before = await snapshot(io.runner, plan.executables, dumps);
  const runtime = [...await bus.getRuntimeChains(), ...await bus.getRuntimeRules()];
  if (!runtime.some(isOurEntry)) {
    // Ours in iptables but not in firewalld's runtime: applied behind its back
    // (an install without --store-firewalld, or kumactl). firewalld cannot
    // add chains that already exist, so those go first.
    await removeEarlier(config, io, plan, new Set(), dumps);
  }
  let report: PersistReport;
  try {
    report = await storeWithFirewalld(
      { bus, runner: io.runner },
      plan.families.map((f) => f.ruleSet),
      {
        verbose: config.verbose,
        comments: plan.families.every((f) => f.comments),
        restoreCommands: restoreCommands(plan),
        directXmlPath: host.directXmlPath,
        runtimeOnly,
      },
    );
  } catch (e) {
    if (!(e instanceof FirewalldError && e.code === "firewalld_gone")) throw e;
    // firewalld died with part of our new runtime rules applied (a killed
    // firewalld does not flush): put the kernel back too.
    const rollbacks = await rollBackTo(io.runner, before, restoreOptions(config, io));
    const done = describeRollbacks(rollbacks, { byBackend: true });
    throw new FirewalldError(
      "firewalld_gone",
      `${e.message}. Runtime: firewalld is not running, and the kernel rules were put back as ` +
        `they were before this install (${
          done.length > 0 ? done.join("; ") : "none of ours had changed"
        }). The install did not happen; run it again once firewalld runs.`,
      { path: e.path, cause: e },
    );
  }
  for (const line of describePersist(report)) persistLine(io, "firewalld", line);
}

/**
 * Installs (or, with --dry-run, prints) the rules. A real run holds our own
 * lock from reading the live rules to the last change (run_lock.ts).
 *
 * @example
 * ```ts ignore
 * const code = await runInstall(await resolveConfig(inputs), io);
 * ```
 */
export async function runInstall(
  resolved: Resolved,
  io: OpsIo,
  options: { confirmTimeoutMs?: number } = {},
): Promise<number> {
  const config = resolved.config;
  requireRoot(io, "install", { dryRun: { enabled: config.dryRun } });
  const run = (hooks?: InstallHooks) => install(config, io, resolved.origins, hooks);
  if (config.dryRun) return await run();
  const { refuseWhilePending, installPending } = await import("./confirm/pending.ts");
  return await withRunLock(io, { exclusive: true }, async () => {
    // A second install would replace what the pending one's rollback restores.
    await refuseWhilePending(io);
    if (options.confirmTimeoutMs === undefined) return await run();
    return await installPending(config, io, options.confirmTimeoutMs, run);
  });
}

/**
 * What a real install reads that depends on nothing it plans: started with
 * the plan and the firewalld probe, so the commands run side by side, and
 * all done before anything changes (install awaits them first). Nothing
 * here reads iptables: `ss` lists sockets, and nft our own table, which
 * only our runs change, and they hold the lock.
 */
interface EarlyReads {
  /** Listening TCP ports, for the lockout guards. */
  ports: Promise<Set<number>>;
  /** Our nft table of an earlier `--backend nftables` install (iptables backend only). */
  nftTable: Promise<NftLookup | undefined>;
}

/** Starts the {@linkcode EarlyReads}; each error reaches the step that needs that read. */
function startReads(config: Config, io: OpsIo): EarlyReads {
  const reads: EarlyReads = {
    ports: listeningTcpPorts(io.runner),
    nftTable: config.backend === "iptables" ? lookUpNftTable(io) : Promise.resolve(undefined),
  };
  // Awaited where they are used; until then a failure must not be unhandled.
  for (const p of Object.values(reads)) p.catch(() => {});
  return reads;
}

/** Waits for every early read to finish, failed or not: nothing may change the rules before. */
async function settled(reads: EarlyReads): Promise<void> {
  await Promise.allSettled(Object.values(reads));
}

/**
 * The plan and the firewalld probe. The probe loads the D-Bus client, which
 * keeps the one JavaScript thread busy for tens of milliseconds: it runs
 * beside the plan's commands, or, with a pretest, after the plan, beside
 * the `--test` runs, which wait on the kernel far longer than the plan's
 * commands do. A failed plan is reported first, as when they ran one after
 * the other.
 */
async function planAndProbe(
  io: OpsIo,
  planning: Promise<InstallPlan>,
  afterPlan: boolean,
  needBus: boolean,
): Promise<{ plan: InstallPlan; host: FirewalldHost }> {
  const probe = () => probeFirewalld(io, { needBus });
  const probing = afterPlan ? planning.then(probe) : probe();
  const [plan, host] = await Promise.allSettled([planning, probing]);
  if (plan.status === "rejected") {
    if (host.status === "fulfilled") closeFirewalld(host.value);
    throw plan.reason;
  }
  if (host.status === "rejected") throw host.reason;
  return { plan: plan.value, host: host.value };
}

async function install(
  config: Config,
  io: OpsIo,
  origins: Resolved["origins"],
  hooks?: InstallHooks,
): Promise<number> {
  // Dumps read under the run lock, shared by the plan, the apply and the
  // removal of earlier installations (src/iptables/dumps.ts).
  const dumps = new LiveDumps(io.runner);
  const early = config.dryRun ? undefined : startReads(config, io);
  const planning = planInstall(config, {
    runner: io.runner,
    facts: io.facts,
    origins,
    dumps,
    prefetchDumps: !config.dryRun,
  });
  // Every read done before anything changes (the pretest's tests included).
  const reads = planning.then(() => Promise.all([early && settled(early), dumps.settled()]))
    .then(() => {}, () => {});
  // --store-firewalld mostly meets a running firewalld, which takes the rules
  // itself: no apply, so no pretest either.
  const pretest = early && config.backend === "iptables" && !config.storeFirewalld
    ? startPretest(config, io, planning, reads, dumps)
    : undefined;
  try {
    return await installPlanned(config, io, { planning, reads, early, dumps, pretest, hooks });
  } finally {
    // Never return, and so release the run lock, with a test still running.
    await pretest?.settled;
  }
}

/** What {@linkcode install} started before the plan was ready. */
interface Started {
  planning: Promise<InstallPlan>;
  /** Every read of the plan and {@linkcode EarlyReads} finished. */
  reads: Promise<void>;
  early?: EarlyReads;
  dumps: LiveDumps;
  pretest?: Pretest;
  /** A pending install's (confirm/pending.ts). */
  hooks?: InstallHooks;
}

async function installPlanned(config: Config, io: OpsIo, started: Started): Promise<number> {
  const { early, dumps, pretest, hooks } = started;
  const { plan, host } = await planAndProbe(
    io,
    started.planning,
    pretest !== undefined,
    config.storeFirewalld,
  );
  await started.reads;
  for (const w of plan.warnings) warn(io, w);
  if (config.backend === "nftables") {
    const code = await installWithNftables(config, io, plan, restoreOptions(config, io), {
      host,
      dumps,
      ports: early?.ports,
      current: (nftTable, targets) =>
        currentState({
          config,
          io,
          plan,
          host,
          dumps,
          nftTable,
          byFirewalld: false,
          removeUnit: false,
          targets: targets.map((t) => buildTarget(t, { config, io, plan, host })),
        }),
      hooks,
    });
    if (early) await ensurePassthroughAddress(io, plan);
    return code;
  }
  if (config.comments.disabled) {
    warn(
      io,
      "comments are disabled: uninstall and re-install cannot tell these rules apart from others",
    );
  }
  if (early) {
    try {
      await assertNftTableRemovable(early.nftTable);
    } catch (e) {
      closeFirewalld(host);
      throw e;
    }
  }
  // The targets prepared, to be discarded at the end (harmless after a commit).
  const targetOf = new Map<TargetName, PersistTarget>();
  // Ends the hold on SIGINT/SIGTERM that applyToKernel leaves once the rules are in.
  let release = () => {};
  try {
    const choice = persistChoice(config, host);
    if (choice.note) info(io, choice.note);
    const storeFirewalld = choice.firewalld;
    let refusal: unknown;
    let regime: FlushRegime | undefined;
    try {
      if (storeFirewalld) {
        // A non-root dry run cannot open direct.xml for writing; root will find out.
        // A real run probes it in the target's check, before the kernel changes,
        // so an unchanged install does not write a probe file either.
        await checkStoreFirewalld(io, config, host, plan.families, {
          writable: io.uid() === 0 && config.dryRun,
        });
        // firewalld 2.x would flush other tools' iptables rules (docs/firewalld.md#f12).
        regime = (await checkFirewalldFlush(io, config, host, plan, dumps)).regime;
      } else if (host.running) {
        // Its chain would reject what we redirect inbound (docs/firewalld.md#f13).
        await checkInboundRedirect(io, config, host);
      } else if (host.installed && !host.unknown) {
        // Stopped, it builds that chain at its next start: said, as the nftables path does.
        await atNextStart(
          io,
          () => checkInboundRedirect(io, config, host),
          (e) => isUserError(e) || e instanceof FirewalldError,
        );
      }
    } catch (e) {
      // A dry run still shows everything, then says the real run would refuse.
      if (!config.dryRun || !(isUserError(e) || e instanceof FirewalldError)) throw e;
      refusal = e;
    }
    const stale = storeFirewalld ? null : await findStaleEntries(io, host);
    const facts = {
      backend: "iptables",
      firewalld: firewalldPresence(host),
      storeFirewalld,
      bootUnit: choice.systemd ? "write" : choice.removeUnit ? "remove" : "leave",
      staleEntries: stale?.mechanism ?? "none",
      dryRun: config.dryRun,
    } as const;
    const planned = installProgram({
      ...facts,
      current: config.dryRun ? "differs" : await currentState({
        config,
        io,
        plan,
        host,
        dumps,
        nftTable: await early!.nftTable,
        byFirewalld: storeFirewalld && host.running,
        removeUnit: choice.removeUnit,
        targets: targetsOf(facts).map((t) => buildTarget(t, { config, io, plan, host })),
      }),
    });
    const program = hooks && !config.dryRun ? hooks.program(planned) : planned;
    if (!choice.systemd && !choice.removeUnit) {
      const staleUnit = await staleUnitWarning(config, io);
      if (staleUnit) warn(io, staleUnit);
    }
    if (program.steps[0]?.kind === "print-dry-run") {
      io.out(renderDryRun(plan.families.map((f) => ({ family: f.family, text: f.text }))));
      if (storeFirewalld) {
        io.out(renderFirewalldDryRun(host, directEntriesFor(plan.families, config.verbose)));
      }
      if (choice.systemd) io.out(await renderSystemdDryRun(config, io));
      if (stale) {
        io.out(`\n${describeStaleDryRun(stale)}`);
        info(io, STALE_NOTE);
      }
      if (refusal === undefined) return EXIT.OK;
      warn(io, `[dry-run] the real run would refuse: ${(refusal as Error).message}`);
      return exitCodeOf(refusal);
    }
    const leavesIptables = !storeFirewalld && config.backend === "iptables" &&
      await firewalldLeavesIptables(io, host);
    const guards = lockoutWarnings(config, {
      listeningPorts: await early!.ports,
      firewalldRunning: host.running,
      firewalldLeavesIptables: leavesIptables,
    });
    for (const w of guards) warn(io, w);
    const stopped = stoppedFirewalldWarning(config, {
      firewalld: firewalldPresence(host),
      unit: choice.systemd,
      leavesIptables,
    });
    if (stopped) warn(io, stopped);

    // Committed in the transaction's persist step, reported after the kernel lines.
    const committed: { name: TargetName; lines: string[] }[] = [];
    // The pretest only read: every step below may change the rules.
    await pretest?.settled;
    io.report?.mayChange();
    let unchanged = false;
    await hooks?.beforeChange(plan, dumps, host.running ? host.bus : undefined);
    await runProgram(program.steps, {
      "report-unchanged": () => Promise.resolve(void (unchanged = reportUnchanged(io))),
      "prepare-target": async ({ target }) => {
        const t = buildTarget(target, { config, io, plan, host });
        await t.check();
        targetOf.set(target.name, t);
        await t.stage();
      },
      "store-in-running-firewalld": (step) =>
        storeInRunningFirewalld(config, io, plan, host, dumps, step.runtimeOnly === true),
      "remove-stale-firewalld-entries": async () => {
        // firewalld runs: it takes its own runtime rules out, before the kernel changes.
        for (const line of describePersist(await removeStaleEntries(host))) {
          persistLine(io, "firewalld", line);
        }
        info(io, STALE_NOTE);
        // firewalld took rules out of the kernel: what was read before is stale.
        dumps.forgetAll();
      },
      "apply-kernel": async (step) => {
        const persist = step.commit.length === 0 ? undefined : async () => {
          for (const { name } of step.commit) {
            committed.push({ name, lines: await targetOf.get(name)!.commit() });
          }
        };
        release = await applyToKernel(
          config,
          io,
          plan,
          dumps,
          persist,
          step.pretest ? pretest : undefined,
        );
      },
      "remove-stale-unit": () => removeStaleUnit(io),
    });
    if (unchanged) {
      // What the stored entries make firewalld do holds, changed or not.
      if (regime === "on_direct") warn(io, FLUSH_WARNING);
      return EXIT.OK;
    }
    await ensurePassthroughAddress(io, plan);
    for (const f of plan.families) {
      const through = storeFirewalld && host.running;
      const counts = countRuleSet(f.ruleSet);
      io.report?.change({
        family: f.family,
        backend: iptablesBackend(f.exe!.mode),
        action: "installed",
        via: through ? "firewalld" : "kernel",
        ...counts,
      });
      io.out(
        `IPv${f.family} (${f.exe!.mode}): installed ${formatCounts(counts)}${
          through ? ", through firewalld" : ""
        }\n`,
      );
    }
    for (const { name, lines } of committed) {
      for (const line of lines) persistLine(io, name, line);
    }
    if (stale?.mechanism === "direct.xml") info(io, STALE_NOTE);
    if (regime === "on_direct") warn(io, FLUSH_WARNING);
  } catch (e) {
    release();
    throw e;
  } finally {
    for (const t of targetOf.values()) await t.discard();
    closeFirewalld(host);
  }
  try {
    // Switching back from --backend nftables: our table would redirect too.
    await removeNftTable(io, false, early!.nftTable);
  } catch (e) {
    release();
    // Both backends redirect now: not a success, whatever else went right.
    throw new UserError(
      `the iptables rules are installed, but our nft table could not be removed, so both ` +
        `backends redirect: ${(e as Error).message}. Remove the table (nft delete table ` +
        "inet kuma_mesh_transparent_proxy) or run uninstall, then install again",
    );
  }
  release();
  io.report?.settle(true);
  info(io, "transparent proxy installed; run kuma-dp with the transparent proxy enabled");
  return EXIT.OK;
}

/**
 * firewalld now persists the rules: a unit of ours from an earlier
 * --store-systemd would apply an older config behind its back at every boot.
 */
async function removeStaleUnit(io: OpsIo): Promise<void> {
  try {
    const report = await removeBootFiles(systemdHost(io), { dryRun: false });
    for (const line of report.lines) persistLine(io, "systemd", line);
  } catch (e) {
    warn(
      io,
      `the rules are stored in firewalld, but the earlier systemd unit could not be removed ` +
        `(it would apply an older config at boot; run uninstall, then install): ${
          (e as Error).message
        }`,
    );
  }
}
