/**
 * `kuma-tproxy confirm`: keeps a pending install. Writes the persistence it
 * deferred (the targets' stage and commit, the removal of our older boot
 * unit), then removes the record, which ends the watcher (watch.ts). A
 * failed check or staging keeps the install pending: confirm can run again
 * before the deadline, or the rollback comes. Before its first write read at
 * boot, it marks the record confirmed: from then on the rules are never
 * rolled back (the boot files may hold them), and a confirm stopped half-way
 * (killed, a failed write) is finished by the next one. Past the deadline (a watcher that was
 * late, or killed), confirm rolls back itself instead and says so.
 *
 * @module
 */
import { resolveConfig } from "../../config/resolve.ts";
import { LiveDumps } from "../../iptables/dumps.ts";
import { removeBootFiles } from "../../systemd/boot_files.ts";
import { UserError } from "../errors.ts";
import { EXIT } from "../exit_codes.ts";
import { closeFirewalld, describePersist, probeFirewalld } from "../firewalld_step.ts";
import { storeWithFirewalld } from "../../firewalld/persist.ts";
import type { OpsIo } from "../io.ts";
import { info, persistLine } from "../log.ts";
import { planInstall, restoreCommands } from "../plan.ts";
import { requireRoot } from "../preconditions.ts";
import { withRunLock } from "../run_lock.ts";
import { systemdHost } from "../systemd_step.ts";
import { buildTarget } from "../targets/registry.ts";
import type { PersistTarget } from "../targets/target.ts";
import { formatDeadline, readPendingOrFail } from "./pending.ts";
import {
  appendLog,
  logPath,
  type PendingRecord,
  recordPath,
  removeRecord,
  writeRecord,
} from "./record.ts";
import { rollBackAndLog } from "./watch.ts";

/** Runs `confirm`; its exit code. */
export async function runConfirm(io: OpsIo): Promise<number> {
  requireRoot(io, "confirm");
  return await withRunLock(io, { exclusive: true }, async () => {
    const record = await readPendingOrFail(io);
    if (!record) {
      throw new UserError(
        "no install is waiting for confirmation: nothing to confirm (an unconfirmed install " +
          `that was rolled back is logged in ${logPath(io)})`,
      );
    }
    if (!record.confirmed && (!record.applied || Date.now() >= record.deadline)) {
      const outcome = await rollBackAndLog(
        io,
        record,
        record.applied
          ? `too late: the deadline ${formatDeadline(record.deadline)} had passed`
          : "the install that waits for confirmation did not finish (it was killed)",
      );
      throw new UserError(
        outcome.ok
          ? "nothing was confirmed: the previous rules were put back (see the lines above); " +
            "run install again"
          : "nothing was confirmed, and the previous rules could not all be put back (see the " +
            "lines above); run confirm again to retry, or uninstall",
      );
    }
    const resumed = record.confirmed === true;
    await writePersistence(io, record);
    await removeRecord(io);
    io.report?.settle(true);
    info(
      io,
      resumed
        ? "confirmed: the rules stay, and the storing an earlier confirm began is finished"
        : "confirmed: the rules stay, and they are stored as the install asked",
    );
    return EXIT.OK;
  });
}

/** Commits what the pending install deferred; throws, with the record kept, when a write fails. */
async function writePersistence(io: OpsIo, record: PendingRecord): Promise<void> {
  const { targets, removeUnit, firewalld } = record.persist;
  if (targets.length === 0 && !removeUnit && !firewalld) return;
  const { config, origins } = await resolveConfig({
    configSources: [recordPath(io)],
    flags: [],
    env: {},
    readFile: () => Promise.resolve(record.config),
    readStdin: () => Promise.reject(new Error("no stdin")),
  });
  const plan = await planInstall(config, {
    runner: io.runner,
    facts: io.facts,
    origins,
    dumps: new LiveDumps(io.runner),
  });
  const host = await probeFirewalld(io, { needBus: config.storeFirewalld });
  const prepared: PersistTarget[] = [];
  try {
    if (firewalld && !host.running) {
      throw new Error("firewalld, which took the rules, no longer runs");
    }
    // Checked and staged (temp files only) before anything read at boot changes.
    for (const { name, want } of targets) {
      const t = buildTarget({ name, want }, { config, io, plan, host });
      prepared.push(t);
      await t.check();
      await t.stage();
    }
  } catch (e) {
    for (const t of prepared) await t.discard();
    closeFirewalld(host);
    throw new UserError(
      `confirm could not store the rules (${(e as Error).message}); the install is still ` +
        `waiting: fix this and run confirm again before ${
          formatDeadline(record.deadline)
        }, or the previous rules come back`,
    );
  }
  try {
    // From the first write on, what boot reads may hold the new rules: they must stay, whatever
    // stops this run (killed, a failed write). The watcher and install never roll this back.
    if (!record.confirmed) {
      record.confirmed = true;
      await writeRecord(io, record);
      await appendLog(io, ["confirm: the rules stay; storing them"]);
    }
    if (firewalld) {
      // The runtime config holds them already: this writes the permanent one.
      const report = await storeWithFirewalld(
        { bus: host.bus!, runner: io.runner },
        plan.families.map((f) => f.ruleSet),
        {
          verbose: config.verbose,
          comments: plan.families.every((f) => f.comments),
          restoreCommands: restoreCommands(plan),
          directXmlPath: host.directXmlPath,
        },
      );
      for (const line of describePersist(report)) persistLine(io, "firewalld", line);
    }
    for (const t of prepared) {
      for (const line of await t.commit()) persistLine(io, t.name, line);
    }
    if (removeUnit) {
      for (const line of (await removeBootFiles(systemdHost(io), { dryRun: false })).lines) {
        persistLine(io, "systemd", line);
      }
    }
  } catch (e) {
    throw new UserError(
      record.confirmed
        ? `confirm could not finish storing the rules (${(e as Error).message}); they are ` +
          "kept and will not be rolled back: fix this and run confirm again to finish"
        : `cannot mark the install confirmed (${(e as Error).message}); nothing was stored, ` +
          `the install is still waiting until ${formatDeadline(record.deadline)}`,
    );
  } finally {
    for (const t of prepared) await t.discard();
    closeFirewalld(host);
  }
}

/**
 * Rolls a pending install back now (install --verify --confirm-timeout,
 * when a path failed); nothing pending is fine.
 */
export async function rollBackNow(io: OpsIo, why: string): Promise<void> {
  await withRunLock(io, { exclusive: true }, async () => {
    const record = await readPendingOrFail(io);
    if (record) await rollBackAndLog(io, record, why);
  });
}
