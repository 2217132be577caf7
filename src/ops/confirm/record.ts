/**
 * The record of an install that waits for `kuma-tproxy confirm`: what the
 * kernel held before it (to put back), when that happens, and what confirm
 * still has to write where it persists. It lives in /run/kuma-tproxy (a
 * tmpfs, like our lock): a reboot drops it, and the boot path, which was
 * never changed while the install was pending, brings back the previous
 * state. Written atomically (src/os/durable_file.ts), root only (0600).
 *
 * Host-wide, as the run lock is: one pending install per host.
 *
 * @module
 */
import type { DirectEntry } from "../../firewalld/direct_entries.ts";
import type { Snapshot } from "../../iptables/transaction.ts";
import type { RestoreOptions } from "../../iptables/restore_exec.ts";
import { readTextFileBounded } from "../../os/bounded_read.ts";
import { removeFileDurably, replaceFile } from "../../os/durable_file.ts";
import type { OpsIo } from "../io.ts";
import { checkRecord } from "./record_check.ts";
import type { TargetChoice } from "../targets/registry.ts";

/** Where the record and the rollback log live, unless `io.confirmDir` says otherwise (tests). */
export const CONFIRM_DIR = "/run/kuma-tproxy";

export interface PendingRecord {
  version: 1;
  /** Names this install: a watcher only acts on the record it was started for. */
  id: string;
  /** When the install started, ms since the epoch. */
  startedAt: number;
  /** When the previous state comes back, ms since the epoch; moved to apply end + timeout once applied. */
  deadline: number;
  timeoutMs: number;
  /** The backend the pending install applied. */
  backend: "iptables" | "nftables";
  /** True once the install finished; before, the deadline counts from its start. */
  applied: boolean;
  /**
   * Set by confirm before its first write read at boot: from then on the
   * rules are kept, never rolled back (the boot files may hold them already);
   * a confirm that was interrupted leaves it, and the next confirm finishes.
   */
  confirmed?: boolean;
  /** The watcher's PID, once started. */
  watcherPid?: number;
  /** Every iptables backend and family as it was (transaction.ts's Snapshot, plain data). */
  iptables: Snapshot;
  /** Our nft table as `nft list table` printed it, null when there was none; absent without nft. */
  nft?: { path: string; before: string | null };
  /** How to run iptables-restore (the install's --wait and retries). */
  restore: Omit<RestoreOptions, "log">;
  /**
   * What confirm writes: the persistence targets, whether our old boot unit
   * goes, and whether a running firewalld's permanent config takes the rules.
   */
  persist: { targets: TargetChoice[]; removeUnit: boolean; firewalld?: boolean };
  /** Our entries in a running firewalld's runtime direct config before the install. */
  firewalld?: { runtime: DirectEntry[] };
  /** The install's resolved config as YAML (`kuma-tproxy config`), for confirm's persistence. */
  config: string;
}

/** A record holds a few iptables saves: room for large rule sets, never unbounded. */
const MAX_RECORD_BYTES = 64 * 1024 * 1024;

/** The directory of the record. */
export function confirmDir(io: Pick<OpsIo, "confirmDir">): string {
  return io.confirmDir ?? CONFIRM_DIR;
}

/** The record's path. */
export function recordPath(io: Pick<OpsIo, "confirmDir">): string {
  return `${confirmDir(io)}/pending.json`;
}

/** The rollback log's path: one line per event, for `status` and the operator. */
export function logPath(io: Pick<OpsIo, "confirmDir">): string {
  return `${confirmDir(io)}/confirm.log`;
}

/** Writes (or replaces) the record atomically. */
export async function writeRecord(io: Pick<OpsIo, "confirmDir">, record: PendingRecord) {
  await Deno.mkdir(confirmDir(io), { recursive: true, mode: 0o700 });
  await replaceFile(recordPath(io), JSON.stringify(record) + "\n", { mode: 0o600 });
}

/** The record, or undefined when no install is pending. A damaged record throws. */
export async function readRecord(
  io: Pick<OpsIo, "confirmDir">,
): Promise<PendingRecord | undefined> {
  let text: string;
  try {
    text = await readTextFileBounded(recordPath(io), { maxBytes: MAX_RECORD_BYTES });
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
  try {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new Error("not valid JSON");
    }
    checkRecord(value);
    return value as PendingRecord;
  } catch (e) {
    // Cut short, edited or another version's: nothing acts on it (record_check.ts).
    throw new Error(
      `${recordPath(io)} is not a record this kuma-tproxy wrote (${(e as Error).message})`,
    );
  }
}

/** Removes the record; returns whether there was one. */
export function removeRecord(io: Pick<OpsIo, "confirmDir">): Promise<boolean> {
  return removeFileDurably(recordPath(io));
}

/** Appends `lines` to the log, each with the time; never throws (the log is a courtesy). */
export async function appendLog(io: Pick<OpsIo, "confirmDir">, lines: string[]): Promise<void> {
  const at = new Date().toISOString();
  try {
    await Deno.mkdir(confirmDir(io), { recursive: true, mode: 0o700 });
    await Deno.writeTextFile(logPath(io), lines.map((l) => `${at} ${l}\n`).join(""), {
      append: true,
      mode: 0o600,
    });
  } catch {
    // Nothing to tell it to: the watcher's stderr is /dev/null.
  }
}
