/**
 * The decision behind `kuma-tproxy status`, as pure functions: from what the
 * config would generate and what each backend holds of ours (both as
 * canonical rule lists: src/iptables/canonical.ts for iptables,
 * src/nftables/lines.ts for our nft table) to a report and an exit code.
 * status.ts gathers the facts; nothing here runs a command.
 *
 * @module
 */
import type { Executables } from "../iptables/executables.ts";
import type { Family } from "../rules/model.ts";
import type { Counts } from "./counts.ts";
import { EXIT } from "./exit_codes.ts";
import { NO_RULES, NOT_OURS, NOT_OURS_RULE } from "../nftables/lines.ts";

/** An iptables backend, or our nftables table. */
export type Mode = Executables["mode"] | "nftables";

/** What the current config would install for one family, and with which backend. */
export interface PlannedFamily {
  family: Family;
  mode: Mode;
  /**
   * Canonical rule lists per table (`canonicalRules(text, { oursOnly: true })`;
   * for nftables, `expectedLines` per family, keyed by chain and set).
   */
  expected: Map<string, string[]>;
}

/** What one backend of one family holds of ours. */
export interface LiveBackend {
  family: Family;
  mode: Mode;
  /**
   * Canonical rule lists per table (`canonicalSavedRules(dump)`; for nftables,
   * `liveLines` of our table); empty when nothing of ours is there.
   */
  rules: Map<string, string[]>;
}

/**
 * Persistence of the rules in firewalld (reloads and reboots). It counts in
 * the exit code: stored entries that differ from the config (`matches`
 * false) are drift, and an unreadable place (`unreadable`) makes status
 * unsure (exit 3).
 */
export interface PersistenceStatus {
  mechanism: "firewalld";
  /**
   * firewalld's state on the bus ("RUNNING", ...), or "stopped" / "not
   * installed", or "unknown" when the bus may not be used (`detail` says why).
   */
  firewalld: string;
  /**
   * Our rules and chains in each place, counted as install counts them
   * (counts.ts); null where it cannot be read or does not exist.
   */
  permanent: Counts | null;
  runtime: Counts | null;
  directXml: Counts | null;
  /** Some place that survives a reboot holds our rules. */
  stored: boolean;
  /**
   * The stored entries equal what the config would store. Only set when the
   * config asks for --store-firewalld or something is stored.
   */
  matches?: boolean;
  /**
   * A place that may hold our entries could not be read (a direct.xml
   * that is too large, not a file, not UTF-8); `detail` says why. Status
   * then cannot say "clean" nor "nothing of ours": exit 3.
   */
  unreadable?: boolean;
  detail?: string;
}

/**
 * Boot persistence with systemd (install --store-systemd): whether our unit
 * and its config are there and enabled, and whether they are what install
 * would write for the current config.
 */
export interface BootUnitStatus {
  mechanism: "systemd";
  /** kuma-tproxy.service: missing, ours, or someone else's unit of that name. */
  unit: "absent" | "ours" | "foreign";
  /** The stored config file. */
  config: "absent" | "ours" | "foreign";
  /** The WantedBy symlink points at our unit. */
  enabled: boolean;
  /** systemd runs as PID 1 here. */
  systemdRunning: boolean;
  /** Unit, config and symlink are exactly what install would write now (text, type, owner, mode). */
  matches: boolean;
  /** Why the boot run refuses the stored config file as it is (a symlink, writable by others). */
  refused?: string;
  paths: { unit: string; config: string };
}

/**
 * What a target holds, for status: nothing of ours (`stored` false), ours
 * matching the plan (`stored`, `matches` not false), ours drifted (`matches`
 * false: also when the plan wants ours and nothing is there), or unreadable
 * (`unreadable`: status cannot say "clean" nor "nothing of ours"). `detail`
 * is the target's own account, which the text report renders.
 */
export interface TargetStatus {
  /** The target's name, or `firewalld` for a running firewalld's permanent config. */
  target: string;
  stored: boolean;
  /** Set where the plan wants this target or something of ours is stored there. */
  matches?: boolean;
  unreadable?: boolean;
  detail?: PersistenceStatus | BootUnitStatus;
}

/** A family (or one backend of it) that status could not look at, and why. */
export interface FamilyNote {
  family: Family;
  mode?: Mode;
  reason: string;
}

export interface StatusFacts {
  planned: PlannedFamily[];
  live: LiveBackend[];
  /** What each persistence target (and a running firewalld) holds, in install's commit order. */
  targets?: TargetStatus[];
  /** Backends whose rules could not be read (tools missing or broken): our rules may be there. */
  uninspected?: FamilyNote[];
  /** Families the config asks for that this host does not configure (IPv6 disabled, ...). */
  skipped?: FamilyNote[];
}

/** How one table of the live rules differs from the generated ones. */
export interface TableDrift {
  table: string;
  /** Generated but not live. */
  missing: string[];
  /** Live but not generated (ours, left from another config or version). */
  unexpected: string[];
  /** Same rules, different order within a chain. */
  reordered: boolean;
}

export interface FamilyStatus {
  family: Family;
  /** The config would install this family on this host. */
  planned: boolean;
  /** The backend the config installs with; for an unplanned family, the one holding our rules. */
  backend: Mode;
  /** Some of our rules or chains are in that backend. */
  installed: boolean;
  /** The live rules equal what the config would generate. */
  matches: boolean;
  drift: TableDrift[];
  /**
   * Other backends of this family that hold our rules and chains; the kernel
   * runs both, so they count as drift.
   */
  otherBackends: OtherBackend[];
}

/** Our rules and chains in a backend the config does not use, and what there is not ours. */
export type OtherBackend = { mode: Mode; notOurs?: string[] } & Counts;

export type StatusState = "installed" | "not-installed" | "drift";

/** An install that waits for `kuma-tproxy confirm` (src/ops/confirm). */
export interface PendingStatus {
  /** When the previous rules come back, ISO 8601 UTC. */
  deadline: string;
  /** When the install started, ISO 8601 UTC. */
  startedAt: string;
  /** False: the install never finished (killed); its rollback still comes at the deadline. */
  applied: boolean;
  /** What confirm will write (persistence targets, `systemd (remove)` for an older unit). */
  deferred: string[];
  /** Present, true: a confirm kept the rules and was stopped while storing them; no rollback comes. */
  confirmed?: true;
  /** Present, true: past the deadline and not rolled back yet (its watcher gone, busy or failed). */
  overdue?: true;
}

export interface StatusReport {
  state: StatusState;
  /** Present while an install waits for confirmation. */
  pending?: PendingStatus;
  families: FamilyStatus[];
  /** Persistence: what each target holds (targets/target.ts), in install's commit order. */
  targets: TargetStatus[];
  /** Present when some backend could not be read; the exit code is then 3. */
  uninspected?: FamilyNote[];
  /** Families the config asks for that are not configured on this host, and why. */
  skipped?: FamilyNote[];
}

/** Lines of `a` not in `b`, counting duplicates. */
function minus(a: string[], b: string[]): string[] {
  const left = new Map<string, number>();
  for (const line of b) left.set(line, (left.get(line) ?? 0) + 1);
  return a.filter((line) => {
    const n = left.get(line) ?? 0;
    if (n > 0) left.set(line, n - 1);
    return n === 0;
  });
}

/** Per-table differences between generated and live rule lists; empty when equal. */
export function diffTables(
  expected: Map<string, string[]>,
  live: Map<string, string[]>,
): TableDrift[] {
  const names = [...new Set([...expected.keys(), ...live.keys()])];
  const drift: TableDrift[] = [];
  for (const table of names) {
    const want = expected.get(table) ?? [];
    const have = live.get(table) ?? [];
    const missing = minus(want, have);
    const unexpected = minus(have, want);
    const reordered = missing.length === 0 && unexpected.length === 0 &&
      want.some((line, i) => have[i] !== line);
    if (missing.length > 0 || unexpected.length > 0 || reordered) {
      drift.push({ table, missing, unexpected, reordered });
    }
  }
  return drift;
}

function count(rules: Map<string, string[]>): number {
  return [...rules.values()].reduce((n, lines) => n + lines.length, 0);
}

/**
 * Rules and chains of ours in a canonical listing, and what in it is not
 * ours. iptables: its `-N CHAIN` lines are the chains. nftables
 * (src/nftables/lines.ts): each `chain NAME` key is a chain, whose lines are
 * its rules but for a base chain's head line and the no-rules marker; a
 * rule without our comment, or an object we never write, is not ours.
 */
function counts(mode: Mode, rules: Map<string, string[]>): OtherBackend {
  if (mode !== "nftables") {
    const lines = [...rules.values()].flat();
    const chains = lines.filter((l) => l.startsWith("-N ")).length;
    return { mode, rules: lines.length - chains, chains };
  }
  let chains = 0, ours = 0;
  const notOurs: string[] = [];
  for (const [key, lines] of rules) {
    for (const line of lines) {
      if (line.startsWith(NOT_OURS_RULE) || line === NOT_OURS) notOurs.push(`${key}: ${line}`);
    }
    if (!key.startsWith("chain ")) continue;
    chains++;
    ours += lines.filter((l) =>
      !l.startsWith("type ") && l !== NO_RULES && !l.startsWith(NOT_OURS_RULE)
    ).length;
  }
  return { mode, rules: ours, chains, ...(notOurs.length > 0 ? { notOurs } : {}) };
}

/**
 * The report and exit code: 0 when every planned family is installed and
 * matches the config, nothing of ours is anywhere else, and every
 * persistence target (if asked for or holding ours) matches too; 4 when no
 * backend of any family holds anything of ours; 3 otherwise (drift,
 * including a partial installation). A backend that could not be read
 * (`uninspected`), or a target that could not be (`unreadable`), makes it
 * 3 whatever else was seen: status
 * cannot confirm either "installed as configured" or "nothing of ours".
 *
 * @example
 * ```ts
 * import { statusReport } from "./status_report.ts";
 * const expected = new Map([["nat", ["-A OUTPUT -j RETURN"]]]);
 * const { exitCode } = statusReport({
 *   planned: [{ family: 4, mode: "nft", expected }],
 *   live: [{ family: 4, mode: "nft", rules: new Map() }],
 * });
 * if (exitCode !== 4) throw new Error();
 * ```
 */
export function statusReport(facts: StatusFacts): { report: StatusReport; exitCode: number } {
  const holding = facts.live.filter((b) => count(b.rules) > 0);
  const families: FamilyStatus[] = [];
  for (const plan of facts.planned) {
    const live = facts.live.find((b) => b.family === plan.family && b.mode === plan.mode)?.rules ??
      new Map<string, string[]>();
    const drift = diffTables(plan.expected, live);
    families.push({
      family: plan.family,
      planned: true,
      backend: plan.mode,
      installed: count(live) > 0,
      matches: drift.length === 0,
      drift,
      otherBackends: holding
        .filter((b) => b.family === plan.family && b.mode !== plan.mode)
        .map((b) => counts(b.mode, b.rules)),
    });
  }
  // Our rules in a family the config does not install (ipFamilyMode: ipv4,
  // or no IPv6 on the host any more) still redirect traffic: drift.
  for (const family of [4, 6] as Family[]) {
    if (facts.planned.some((p) => p.family === family)) continue;
    const [first, ...rest] = holding.filter((b) => b.family === family);
    if (!first) continue;
    families.push({
      family,
      planned: false,
      backend: first.mode,
      installed: true,
      matches: false,
      drift: diffTables(new Map(), first.rules),
      otherBackends: rest.map((b) => counts(b.mode, b.rules)),
    });
  }
  families.sort((a, b) => a.family - b.family);
  const targets = facts.targets ?? [];
  const clean =
    families.every((f) => f.planned && f.installed && f.matches && f.otherBackends.length === 0) &&
    targets.every((t) => t.matches !== false);
  const state: StatusState = holding.length === 0 ? "not-installed" : clean ? "installed" : "drift";
  const unsure = (facts.uninspected ?? []).length > 0 || targets.some((t) => t.unreadable);
  const exitCode = unsure
    ? EXIT.DRIFT
    : state === "installed"
    ? EXIT.OK
    : state === "not-installed"
    ? EXIT.NOT_INSTALLED
    : EXIT.DRIFT;
  const report: StatusReport = { state, families, targets };
  if (unsure) report.uninspected = facts.uninspected;
  if ((facts.skipped ?? []).length > 0) report.skipped = facts.skipped;
  return { report, exitCode };
}

/**
 * firewalld's stored entries as a target's status: `direct.xml` while it is
 * stopped (the target), `firewalld` otherwise (a running firewalld's
 * permanent config, where it is the applier, or a firewalld status cannot
 * see).
 *
 * @example
 * ```ts
 * import { persistenceTarget } from "./status_report.ts";
 * const t = persistenceTarget({ mechanism: "firewalld", firewalld: "stopped", permanent: null,
 *   runtime: null, directXml: { rules: 1, chains: 1 }, stored: true, matches: false });
 * if (t.target !== "direct.xml" || t.matches !== false) throw new Error();
 * ```
 */
export function persistenceTarget(p: PersistenceStatus): TargetStatus {
  return {
    target: p.firewalld === "stopped" ? "direct.xml" : "firewalld",
    stored: p.stored,
    ...(p.matches !== undefined ? { matches: p.matches } : {}),
    ...(p.unreadable ? { unreadable: true } : {}),
    detail: p,
  };
}

/** The boot unit as a target's status: stored when our unit is there and enabled. */
export function bootTarget(b: BootUnitStatus): TargetStatus {
  return {
    target: "systemd",
    stored: b.unit === "ours" && b.enabled,
    matches: b.matches,
    detail: b,
  };
}
