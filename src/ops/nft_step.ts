/**
 * The CLI's side of the nftables backend: install (check, apply as one
 * transaction, then clear our iptables rules), and the removal of our table
 * that uninstall and an iptables install run. The nft commands themselves
 * are in src/nftables.
 *
 * @module
 */
import type { Config } from "../config/types.ts";
import { FirewalldError } from "../firewalld/errors.ts";
import { listeningTcpPorts } from "../host/listeners.ts";
import type { LiveDumps } from "../iptables/dumps.ts";
import { uninstallAll } from "../iptables/uninstall.ts";
import { NftError } from "../nftables/errors.ts";
import {
  assertOurs,
  checkNftScript,
  findNft,
  readOurTable,
  removeOurTable,
  runNftScript,
  saveOurTable,
} from "../nftables/exec.ts";
import {
  countNftRules,
  expectedLines,
  NFT_TABLE,
  nftOptionsFor,
  renderNftDelete,
} from "../nftables/script.ts";
import { liveLines, type NftTableState } from "../nftables/state.ts";
import {
  describeNftExit,
  interruptedBySignal,
  judgeNftOutcome,
  type NftOutcome,
  sameLines,
} from "../nftables/outcome.ts";
import { isOurComment, tableNotOurs } from "../nftables/ownership.ts";
import type { Family } from "../rules/model.ts";
import type { FamilyNote, LiveBackend, PlannedFamily } from "./status_report.ts";
import { exitCodeOf, UserError } from "./errors.ts";
import {
  atNextStart,
  checkInboundRedirect,
  checkIpv6Redirect,
  closeFirewalld,
  describePersist,
  type FirewalldHost,
  refuseForeignJumps,
  removeOurEntries,
} from "./firewalld_step.ts";
import { countRemoval, formatCounts } from "./counts.ts";
import { removedFrom } from "./report.ts";
import { lockoutWarnings } from "./guards.ts";
import { FINISHING_SWITCH } from "./switch_interrupt.ts";
import type { PersistChoice } from "../systemd/choice.ts";
import { persistChoice, renderSystemdDryRun, staleUnitWarning } from "./systemd_step.ts";
import { EXIT } from "./exit_codes.ts";
import { DEFAULT_PATH_DIRS } from "../os/search_path.ts";
import { nftInstallRecorded, recordNftInstall } from "./nft_marker.ts";
import type { OpsIo } from "./io.ts";
import { info, persistLine, reportUnchanged, warn } from "./log.ts";
import { installProgram, targetsOf } from "./install_program.ts";
import { buildTarget, type TargetChoice } from "./targets/registry.ts";
import type { PersistTarget } from "./targets/target.ts";
import { runProgram } from "./execute.ts";
import type { InstallPlan } from "./plan.ts";
import type { InstallHooks } from "./confirm/hooks.ts";

const TABLE = `${NFT_TABLE.family} ${NFT_TABLE.name}`;

/** nft errors are the user's to act on (install nft, use iptables), not bugs. */
function asUserError(e: unknown): unknown {
  return e instanceof NftError || e instanceof FirewalldError
    ? new UserError(e.message, exitCodeOf(e))
    : e;
}

/** Reading the iptables dumps in preflight needs no lock waits or retries. */
const retryless = { wait: 0, waitInterval: 0, maxRetries: 0, sleepMs: 0 };

/**
 * Everything that must hold before the kernel changes:
 * firewalld's RFC3964_IPv4 not breaking IPv6, no foreign direct rule jumping
 * to our chains (firewalld_step.ts), nft present, our table (if any)
 * provably ours, our iptables rules (if any) safe to remove. Returns the nft
 * binary and our table as found. The kernel's check of the script
 * (`checkNftScript`) follows unless the table already equals the plan (an
 * unchanged install: that script is what the kernel holds).
 */
async function preflight(
  config: Config,
  io: OpsIo,
  plan: InstallPlan,
  host: FirewalldHost,
  dumps?: LiveDumps,
): Promise<{ nft: string; hasTable: boolean; found: NftLookupFound }> {
  if (host.running) {
    await checkIpv6Redirect(io, config, host, plan.families);
    await checkInboundRedirect(io, config, host);
  } else if (host.installed) {
    await atNextStart(io, async () => {
      await checkIpv6Redirect(io, config, host, plan.families);
      await checkInboundRedirect(io, config, host);
    });
  }
  // Our direct entries go after the table is in: an admin's rule jumping to
  // our chain would stop that, so it stops the install now.
  await refuseForeignJumps(host);
  const nft = await findNft(io.runner);
  const found = await readOurTable(io.runner, nft);
  assertOurs(found);
  // Reads every iptables dump and refuses unsafe ones, changing nothing.
  await uninstallAll(io.runner, plan.executables, { ...retryless, dryRun: true, dumps });
  return { nft, hasTable: found.table !== undefined, found };
}

/** firewalld's state is unknown (probeFirewalld): our entries there were not looked at. */
function warnUnchecked(io: OpsIo, unknown: string): void {
  warn(io, `${unknown}; firewalld's entries of ours could not be checked or removed`);
}

/** firewalld first (it must remove its own runtime rules), then every iptables backend. */
async function removeIptablesLeftovers(
  io: OpsIo,
  plan: InstallPlan,
  host: FirewalldHost,
  restore: Parameters<typeof uninstallAll>[2],
  dumps?: LiveDumps,
): Promise<void> {
  if (host.unknown) {
    warnUnchecked(io, host.unknown);
  } else if (host.running || host.installed) {
    for (const line of describePersist(await removeOurEntries(host))) {
      persistLine(io, host.running ? "firewalld" : "direct.xml", line);
    }
    // A running firewalld took its runtime rules out of the kernel.
    if (host.running) dumps?.forgetAll();
  }
  const report = await uninstallAll(io.runner, plan.executables, { ...restore, dumps });
  for (const b of report.backends) {
    if (b.removed.length > 0) {
      io.report?.change(removedFrom(b));
      info(
        io,
        `removed the iptables installation from IPv${b.family} (${b.mode}): ` +
          formatCounts(countRemoval(b.removed)),
      );
    }
  }
}

/**
 * After a failed `nft -f` of the install script: reads our table again and
 * says what is true. Nothing changed: throws that (exit 1). Neither the old
 * table nor the new one: puts the old one back and throws what happened. The
 * new table is live (nft died after the kernel committed the transaction):
 * returns the failure, and the install goes on from there (finishes the
 * switch, or rolls it back when interrupted).
 */
async function judgeFailedApply(
  io: OpsIo,
  nft: string,
  failure: NftError,
  previous: string | undefined,
  asPlanned: (table?: NftTableState) => boolean,
): Promise<Error> {
  const why = failure.exitCode === undefined ? "" : ` (${describeNftExit(failure.exitCode)})`;
  const stderr = failure.stderr.trim() === "" ? "" : `: ${failure.stderr.trim()}`;
  let outcome: NftOutcome;
  try {
    const found = await readOurTable(io.runner, nft);
    const now = found.table ? await saveOurTable(io.runner, nft) : undefined;
    outcome = judgeNftOutcome(previous, now, found.notOurs === undefined && asPlanned(found.table));
  } catch (e) {
    throw new UserError(
      `nft -f failed${why}${stderr}, and our nft table could not be read back (${
        (e as Error).message
      }): it may be the new one or the old one; run kuma-tproxy status, then install again`,
    );
  }
  if (outcome === "unchanged") {
    throw new UserError(
      `nft -f failed, nothing was changed (our nft table read back as it was before${why})${stderr}`,
    );
  }
  if (outcome === "applied") {
    const e = new Error(
      `nft -f failed${why} after the kernel had committed its transaction: the new table was live`,
    );
    warn(io, `${e.message}${stderr}`);
    return e;
  }
  await runNftScript(io.runner, nft, renderNftDelete() + (previous ?? ""));
  throw new UserError(
    `nft -f failed${why}${stderr}, and left our nft table neither as it was nor as planned; it ` +
      `was put back as it was before this install (${
        previous === undefined ? "none" : "the earlier version"
      })`,
  );
}

/** What install read before calling {@linkcode installWithNftables}. */
export interface NftInstallInputs {
  /**
   * The firewalld probe (closed here). One probe serves the whole run: the
   * persistence choice and the RFC3964 check before the table changes, the
   * removal of our direct entries after.
   */
  host: FirewalldHost;
  /** The iptables dumps read while planning, under the run lock. */
  dumps?: LiveDumps;
  /** Listening TCP ports (`ss`), read while planning; read here when not given. */
  ports?: Promise<Set<number>>;
  /**
   * Whether the table as preflight read it, and the targets install would
   * commit, already equal the plan (current.ts); "differs" when not given.
   */
  current?: (table: NftLookup, targets: TargetChoice[]) => Promise<"equal" | "differs">;
  /** A pending install's (confirm/pending.ts). */
  hooks?: InstallHooks;
}

/**
 * `install --backend nftables`: one `nft -f` replaces our table for both
 * families; our iptables rules (either backend, ours or kumactl's) go only
 * after that succeeded. If they cannot go, the table is put back as it was.
 */
export async function installWithNftables(
  config: Config,
  io: OpsIo,
  plan: InstallPlan,
  restore: Parameters<typeof uninstallAll>[2],
  inputs: NftInstallInputs,
): Promise<number> {
  const script = plan.nftScript!;
  const { host, dumps } = inputs;
  const boot: string[] = [];
  try {
    // --store-firewalld has nothing to store (the direct interface holds
    // iptables rules); --store-systemd brings the table back at boot.
    const choice: PersistChoice = persistChoice(config, host);
    if (choice.note) info(io, choice.note);
    if (!choice.systemd) {
      const staleUnit = await staleUnitWarning(config, io);
      if (staleUnit) warn(io, staleUnit);
    }
    if (config.dryRun) {
      io.out(script);
      if (choice.systemd) io.out(await renderSystemdDryRun(config, io));
      return EXIT.OK;
    }
    let checked: { nft: string; hasTable: boolean; found: NftLookupFound };
    try {
      checked = await preflight(config, io, plan, host, dumps);
    } catch (e) {
      throw asUserError(e);
    }
    const { nft } = checked;
    const facts = {
      backend: "nftables",
      firewalld: host.running ? "running" : host.installed && !host.unknown ? "stopped" : "absent",
      storeFirewalld: false,
      bootUnit: choice.systemd ? "write" : "leave",
      staleEntries: "none",
      dryRun: false,
    } as const;
    const current = inputs.current
      ? await inputs.current({ nft, found: checked.found }, targetsOf(facts))
      : "differs";
    if (current === "differs") {
      try {
        await checkNftScript(io.runner, nft, script);
      } catch (e) {
        throw asUserError(e);
      }
    }
    const guards = lockoutWarnings(config, {
      listeningPorts: await (inputs.ports ?? listeningTcpPorts(io.runner)),
      firewalldRunning: false,
    });
    for (const w of guards) warn(io, w);

    const planned = installProgram({ ...facts, current });
    const program = inputs.hooks ? inputs.hooks.program(planned) : planned;
    const previous = checked.hasTable && current === "differs"
      ? await saveOurTable(io.runner, nft)
      : undefined;
    await inputs.hooks?.beforeChange(plan, dumps);
    // One transaction: an interrupt cannot split it, so it is only noted.
    let interrupted = false;
    // Set once only the removal of our iptables rules remains: it is finished, not undone.
    let finishing = false;
    const stopListening = io.onInterrupt(() => {
      if (finishing) return warn(io, FINISHING_SWITCH);
      interrupted = true;
      warn(io, "interrupted: finishing the nft transaction, then putting the previous rules back");
    });
    let unit: PersistTarget | undefined;
    // What went wrong with an nft that failed after its commit; undefined when it ran.
    let afterCommit: Error | undefined;
    let checkedInterrupt = false;
    let committed = false;
    let unchanged = false;
    // Between the steps after the nft -f: the first check names a failure nft had after its commit.
    const stopIfInterrupted = () => {
      const first = !checkedInterrupt;
      checkedInterrupt = true;
      if (!interrupted) return;
      throw new Error(
        first && afterCommit ? `${afterCommit.message}, then interrupted` : "interrupted",
      );
    };
    io.report?.mayChange();
    try {
      await runProgram(program.steps, {
        "report-unchanged": () => {
          // current.ts cannot look there either: said as the full install says it.
          if (host.unknown) warnUnchecked(io, host.unknown);
          return Promise.resolve(void (unchanged = reportUnchanged(io)));
        },
        "prepare-target": async ({ target }) => {
          // Written under temporary names before the kernel changes; committed after it.
          unit = buildTarget(target, { config, io, plan, host });
          await unit.check();
          await unit.stage();
        },
        "record-nft-install": async () => {
          // Before the kernel changes: a later run without nft must know the table may be there.
          await recordNftInstall(io).catch((e) => {
            throw new UserError(
              `cannot write ${io.nftMarkerPath} (${(e as Error).message}), which tells a later ` +
                "run without nft that our table may be in the kernel; nothing was changed",
            );
          });
        },
        "apply-nft": async () => {
          info(io, `applying the transparent proxy rules as nft table ${TABLE}`);
          try {
            await runNftScript(io.runner, nft, script);
          } catch (e) {
            if (!(e instanceof NftError)) throw e;
            afterCommit = await judgeFailedApply(
              io,
              nft,
              e,
              previous,
              (table) =>
                table !== undefined &&
                sameLines(
                  liveLines(table),
                  expectedLines(plan.families.map((f) => f.ruleSet), nftOptionsFor(config)),
                ),
            );
            if (e.exitCode !== undefined && interruptedBySignal(e.exitCode)) interrupted = true;
          }
          if (previous !== undefined) info(io, `replaced the earlier nft table ${TABLE}`);
          // A later step that fails puts the table back as it was.
          return async (e) => {
            await runNftScript(io.runner, nft, renderNftDelete() + (previous ?? ""));
            return new UserError(
              `${(e as Error).message}; the nft table was put back as it was before this ` +
                `install (${previous === undefined ? "none" : "the earlier version"})` +
                (committed
                  ? "; the boot unit already stores the new config: run install again once this " +
                    "is fixed"
                  : ""),
            );
          };
        },
        // The boot files before the iptables cleanup: a failed commit puts the
        // previous files back itself, and the old iptables rules are still there.
        "commit-target": async () => {
          stopIfInterrupted();
          boot.push(...await unit!.commit());
          committed = true;
        },
        "remove-iptables-leftovers": async () => {
          stopIfInterrupted();
          finishing = true;
          await removeIptablesLeftovers(io, plan, host, restore, dumps);
        },
      });
    } finally {
      stopListening();
      await unit?.discard();
    }
    if (unchanged) return EXIT.OK;
  } finally {
    closeFirewalld(host);
  }
  // Counted as the table holds them (nft list table), which is also what
  // uninstall and status count: a set lookup is one rule, however many
  // exclusions it holds.
  const counts = countNftRules(plan.families.map((f) => f.ruleSet), nftOptionsFor(config));
  for (const f of plan.families) {
    const c = counts.get(f.family) ?? { rules: 0, chains: 0 };
    io.report?.change({
      family: f.family,
      backend: "nftables",
      action: "installed",
      via: "kernel",
      ...c,
    });
    io.out(`IPv${f.family} (nftables): installed ${formatCounts(c)} in ${TABLE}\n`);
  }
  for (const line of boot) persistLine(io, "systemd", line);
  io.report?.settle(true);
  return EXIT.OK;
}

/**
 * Our nft table as {@linkcode lookUpNftTable} found it, with the nft that
 * read it; or, without nft, why it cannot be inspected (`unreadable`).
 */
export type NftLookup =
  | { nft: string; found: NftLookupFound; unreadable?: undefined }
  | { unreadable: string };

/** Our table as `readOurTable` found it. */
export type NftLookupFound = { table?: NftTableState; notOurs?: string };

/** How to remove our table by hand, for messages that cannot. */
const REMOVE_BY_HAND = "install nft (Debian/RHEL package nftables) and run the command again, " +
  `or remove the table yourself once nft is there: nft delete table ${TABLE}`;

/**
 * Reads our nft table, changing nothing. Without nft: undefined when no
 * nftables install of ours is recorded since boot (nft_marker.ts), so no
 * table of ours can be there; otherwise `unreadable`, since only nft can
 * list an inet table. Errors are the user's to act on.
 */
export async function lookUpNftTable(io: OpsIo): Promise<NftLookup | undefined> {
  let nft: string;
  try {
    nft = await findNft(io.runner);
  } catch {
    if (!await nftInstallRecorded(io)) return undefined;
    return {
      unreadable: `${TABLE} cannot be inspected: kuma-tproxy installed that table on this host ` +
        `since boot (${io.nftMarkerPath}), and no nft command answered (in PATH or at ` +
        `${DEFAULT_PATH_DIRS.join(", ")}); only nft can list an inet table, so it may still be ` +
        "in the kernel, redirecting",
    };
  }
  try {
    return { nft, found: await readOurTable(io.runner, nft) };
  } catch (e) {
    throw asUserError(e);
  }
}

/**
 * For an install with `--backend iptables`, before anything changes: our nft
 * table, when it holds rules of ours, must be removable afterwards, or both
 * backends would redirect. A table that holds something we did not write
 * is not (ownership.ts), so the install refuses and names it. A table that
 * holds no rule of ours redirects nothing of ours and is left to the
 * removal step's warning. A lookup that failed is too.
 */
export async function assertNftTableRemovable(lookup: Promise<NftLookup | undefined>) {
  let looked: NftLookup | undefined;
  try {
    looked = await lookup;
  } catch (e) {
    // Unread, a table of ours could go on redirecting beside the iptables rules.
    throw new UserError(
      `cannot read our nft table ${TABLE} (${(e as Error).message}), so installing the ` +
        "iptables rules could leave both redirecting. Nothing was changed",
    );
  }
  if (!looked) return;
  if (looked.unreadable !== undefined) {
    throw new UserError(
      `${looked.unreadable}; installing the iptables rules beside it could leave both ` +
        `redirecting. Nothing was changed: ${REMOVE_BY_HAND}`,
    );
  }
  const { found } = looked;
  const table = found.table;
  if (!table || !found.notOurs || tableNotOurs(table)) return;
  const ours = table.rules.filter((r) => isOurComment(r.comment)).length;
  if (ours === 0) return;
  try {
    assertOurs(found);
  } catch (e) {
    throw new UserError(
      `our nft table still holds ${ours} rules of ours, which would keep redirecting beside the ` +
        `iptables rules, and it cannot be removed: ${(e as Error).message}. Nothing was changed`,
    );
  }
}

/**
 * For uninstall, before anything changes: our table holding something we did
 * not write is refused by its removal, which comes last; refusing first
 * keeps the boot unit, firewalld's entries and the iptables rules too, so the
 * host is not left half uninstalled. A lookup that failed, or a table that is
 * not ours as a whole, is left to the removal, which reports it.
 */
export async function refuseForeignInOurTable(
  lookup: Promise<NftLookup | undefined>,
): Promise<void> {
  const looked = await lookup.catch(() => undefined);
  if (!looked || looked.unreadable !== undefined) return;
  const { found } = looked;
  if (!found.table || !found.notOurs || tableNotOurs(found.table)) return;
  try {
    assertOurs(found);
  } catch (e) {
    throw asUserError(e);
  }
}

/**
 * Removes our nft table, if nft exists and the table is provably ours. For
 * uninstall and for an install with `--backend iptables`. Returns the number
 * of rules it held. `lookup` is a {@linkcode lookUpNftTable} read earlier in
 * this run, under its lock (only our runs change our table).
 */
export async function removeNftTable(
  io: OpsIo,
  dryRun: boolean,
  lookup: Promise<NftLookup | undefined> = lookUpNftTable(io),
): Promise<number> {
  const looked = await lookup;
  if (!looked) return 0; // no nft, and no nft install of ours since boot
  if (looked.unreadable !== undefined) {
    throw new UserError(`${looked.unreadable}: ${REMOVE_BY_HAND}`);
  }
  try {
    const { removed, chains } = await removeOurTable(
      io.runner,
      looked.nft,
      { dryRun },
      looked.found,
    );
    if (removed > 0) {
      io.report?.change({
        backend: "nftables",
        action: "removed",
        via: "kernel",
        rules: removed,
        chains,
      });
      const verb = dryRun ? "would remove" : "removed";
      io.out(
        `nftables (${TABLE}): ${verb} the table, ${formatCounts({ rules: removed, chains })}\n`,
      );
    }
    return removed;
  } catch (e) {
    throw asUserError(e);
  }
}

/** For `status`: what the config would install in our nft table, per family. */
export function plannedNftables(config: Config, plan: InstallPlan): PlannedFamily[] {
  const expected = expectedLines(plan.families.map((f) => f.ruleSet), nftOptionsFor(config));
  return plan.families.map((f) => ({
    family: f.family,
    mode: "nftables",
    expected: expected.get(f.family) ?? new Map(),
  }));
}

/**
 * For `status`: what our nft table holds, per family, from `nft -j`. No
 * table, or no nft and no nftables install recorded since boot: nothing.
 * No nft with an install recorded: the table may be there and cannot be
 * read, a gap in both families (`uninspected`), which status reports as
 * for an iptables backend it cannot read: exit 3, neither "installed as
 * configured" nor "nothing of ours" (exit_codes.ts). A table that is someone else's as a whole (another
 * comment) is named in a warning and not counted. Anything else in our
 * table that we did not write is counted, so it shows as drift, and named
 * in a warning: install and uninstall refuse to touch the table then.
 * `families` (the ones the config installs) get what belongs to no family
 * when the table has no rules. `lookup`: the table as this run read it.
 */
export async function liveNftables(
  io: OpsIo,
  families: Family[],
  lookup: Promise<NftLookup | undefined> = lookUpNftTable(io),
): Promise<{ live: LiveBackend[]; uninspected: FamilyNote[] }> {
  const none = { live: [], uninspected: [] };
  const looked = await lookup.catch((e) => {
    throw new UserError(`cannot read the nftables state: ${(e as Error).message}`);
  });
  if (!looked) return none;
  if (looked.unreadable !== undefined) {
    const reason = `${looked.unreadable}; ${REMOVE_BY_HAND}`;
    return {
      live: [],
      uninspected: ([4, 6] as Family[]).map((family) => ({ family, mode: "nftables", reason })),
    };
  }
  const { found } = looked;
  if (!found.table) return none;
  const whole = tableNotOurs(found.table);
  if (whole) {
    warn(io, `an nft table ${TABLE} exists, but ${whole}: not counted as ours`);
    return none;
  }
  if (found.notOurs) {
    warn(
      io,
      `our nft table ${TABLE} cannot be proven ours as a whole: ${found.notOurs}; install and ` +
        "uninstall leave it alone until that is resolved",
    );
  }
  return {
    live: [...liveLines(found.table, families)].map(([family, rules]) => ({
      family,
      mode: "nftables" as const,
      rules,
    })),
    uninspected: [],
  };
}
