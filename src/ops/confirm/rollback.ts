/**
 * Puts the kernel back as a pending install found it: a running firewalld's
 * runtime direct config of ours put back through D-Bus, our nft table
 * replaced by the previous one (or deleted) in one `nft -f` transaction,
 * and in every iptables backend and family our rules removed and the
 * previous ones re-created where they were (transaction.ts's `rollBackTo`,
 * the code an interrupted install rolls back with). Foreign rules are never
 * touched: unchanged, the result is the exact previous save; changed in the
 * window, they are kept, and the lines say so.
 *
 * @module
 */
import { readDump } from "../../iptables/executables.ts";
import { describeRollbacks, rollBackTo } from "../../iptables/transaction.ts";
import { assertOurs, readOurTable, runNftScript } from "../../nftables/exec.ts";
import { renderNftDelete } from "../../nftables/script.ts";
import type { Runner } from "../../os/runner.ts";
import type { FirewalldBus } from "../../firewalld/bus.ts";
import { restoreRuntime } from "../../firewalld/persist.ts";
import type { OpsIo } from "../io.ts";
import { foreignChanges } from "./foreign.ts";
import type { PendingRecord } from "./record.ts";

/** What the rollback did, one line each, and whether all of it worked. */
export interface RollbackOutcome {
  ok: boolean;
  lines: string[];
}

/** Restores the kernel state of `record`. Never throws: failures are lines with `ok` false. */
export async function rollBackPending(
  io: Pick<OpsIo, "runner" | "connectFirewalld">,
  record: PendingRecord,
): Promise<RollbackOutcome> {
  const runner: Runner = io.runner;
  const lines: string[] = [];
  let ok = true;
  if (record.firewalld) {
    // firewalld owns these rules in the kernel: it takes its runtime entries back first, then
    // the kernel steps below find our part as it was, or repair what it did not restore.
    let bus: FirewalldBus | undefined;
    try {
      bus = await io.connectFirewalld();
      await restoreRuntime(bus, record.firewalld.runtime);
      lines.push("firewalld: our runtime direct config put back as it was");
    } catch (e) {
      ok = false;
      lines.push(
        `firewalld: could not put our runtime direct config back: ${(e as Error).message}`,
      );
    } finally {
      bus?.close();
    }
  }
  const nftStep = async () => {
    if (!record.nft) return;
    try {
      const found = await readOurTable(runner, record.nft.path);
      // A table someone put things into is not ours to delete (nftables/ownership.ts).
      assertOurs(found);
      const script = (found.table ? renderNftDelete() : "") + (record.nft.before ?? "");
      if (script === "") return;
      await runNftScript(runner, record.nft.path, script);
      lines.push(
        record.nft.before === null
          ? "nft: our table removed (there was none before)"
          : "nft: our table put back as it was",
      );
    } catch (e) {
      ok = false;
      lines.push(`nft: could not put our table back: ${(e as Error).message}`);
    }
  };
  const iptablesStep = async () => {
    for (const state of record.iptables.states) {
      const exe = state.plan.exe;
      const now = await readDump(runner, exe).catch(() => undefined);
      const changed = now ? foreignChanges(state.before, now) : [];
      if (changed.length > 0) {
        lines.push(
          `IPv${exe.family} (${exe.mode}): rules of others changed in table ${
            changed.join(", ")
          } since the install; they are kept, and only our rules were put back`,
        );
      }
    }
    const results = await rollBackTo(runner, record.iptables, {
      ...record.restore,
      log: () => {},
    });
    if (results.some((r) => r.error)) ok = false;
    lines.push(...describeRollbacks(results, { byBackend: true }));
  };
  // The previous backend's rules first, the pending install's last: never a moment with none.
  if (record.backend === "iptables") {
    await nftStep();
    await iptablesStep();
  } else {
    await iptablesStep();
    await nftStep();
  }
  return { ok, lines };
}
