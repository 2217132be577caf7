/**
 * The CLI's side of firewalld: find out whether it runs, and store, list or
 * remove our direct entries with the right mechanism (D-Bus when it runs,
 * direct.xml when it is installed but stopped).
 */
import type { Config } from "../config/types.ts";
import type { FirewalldBus } from "../firewalld/bus.ts";
import {
  type DirectEntry,
  isOurEntry,
  sameEntry,
  toDirectEntries,
} from "../firewalld/direct_entries.ts";
import { renderElement } from "../firewalld/direct_xml_render.ts";
import {
  assertNotSymlink,
  assertReplaceable,
  parentExists,
  readDirectXmlFile,
} from "../firewalld/direct_xml_file.ts";
import { FirewalldError } from "../firewalld/errors.ts";
import { assertIpv6RedirectWorks, rfc3964NeedsVersion } from "../firewalld/rfc3964.ts";
import {
  assertInboundRedirectWorks,
  strictForwardPorts,
} from "../firewalld/strict_forward_ports.ts";
import {
  assertNoForeignJumps,
  firewalldState,
  type PersistReport,
  removeFromFirewalld,
} from "../firewalld/persist.ts";
import { assertNoForeignJump } from "../firewalld/foreign_jump.ts";
import type { PersistenceStatus } from "./status_report.ts";
import type { RuleSet } from "../rules/model.ts";
import type { FamilyPlan, InstallPlan } from "./plan.ts";
import type { LiveDumps } from "../iptables/dumps.ts";
import {
  describeForeign,
  FLUSH_WARNING,
  type FlushRegime,
  flushRegime,
  type FlushVerdict,
  flushVerdict,
  type ForeignIptables,
} from "../firewalld/flush_regime.ts";
import { notOurs } from "../iptables/save_parser.ts";
import { readRegimeFacts } from "../firewalld/flush_facts.ts";
import type { RegimeFacts } from "../firewalld/flush_regime.ts";
import { EXIT } from "./exit_codes.ts";
import type { OpsIo } from "./io.ts";
import { UserError } from "./errors.ts";
import { countEntries, formatCounts } from "./counts.ts";
import { warn } from "./log.ts";
import { persistChoice } from "./systemd_step.ts";
import type { FirewalldPresence } from "../systemd/choice.ts";

export interface FirewalldHost {
  /**
   * Connected lazily. Undefined when the bus address is outside the
   * binary's permissions (`unknown` says so), or when the bus was not asked
   * (firewalld not installed and not needed); an unreachable bus still
   * gives a client, whose calls fail, and reads as not running.
   */
  bus?: FirewalldBus;
  running: boolean;
  /** The config directory exists (firewalld is installed). */
  installed: boolean;
  /**
   * Set when firewalld's state cannot be learnt: DBUS_SYSTEM_BUS_ADDRESS
   * names a bus the binary may not use (`unknownCause` "address"), or the
   * bus did not answer in time ("timeout"). The sentence says so; `running`
   * is then false only because it is unknown.
   */
  unknown?: string;
  unknownCause?: "address" | "timeout";
  directXmlPath: string;
  confPath: string;
  /**
   * firewalld.conf as read through `io.readFile` when probing; null when it
   * is missing or unreadable (firewalld's defaults apply).
   */
  conf: string | null;
}

/**
 * Whether firewalld runs, is installed but stopped, or is absent: what
 * install and status tell the user (unknown reads as absent). Not
 * persistChoice's presence, where an unknown firewalld that is installed
 * counts as stopped.
 */
export function firewalldPresence(host: FirewalldHost): FirewalldPresence {
  return host.running ? "running" : host.installed && !host.unknown ? "stopped" : "absent";
}

/**
 * A stopped firewalld's refusal as a warning: it would reject what we
 * redirect, but only at its next start, so the install goes on and says so.
 * `isRefusal` picks the errors that are refusals; any other is thrown.
 */
export async function atNextStart(
  io: OpsIo,
  check: () => Promise<void>,
  isRefusal: (e: unknown) => boolean = () => true,
): Promise<void> {
  try {
    await check();
  } catch (e) {
    if (!isRefusal(e)) throw e;
    warn(io, `${(e as Error).message.replace(/ Nothing was changed\.$/, "")} (at its next start)`);
  }
}

/**
 * Looks for firewalld on the system bus and on disk. Close with
 * {@link closeFirewalld}. Never fails because of the bus: an unreachable bus
 * reads as "not running", and a bus address outside the binary's
 * permissions, or a bus that does not answer within the probe's time
 * (waits.ts), as "unknown" (`host.unknown`), which each command handles.
 * Without /etc/firewalld, firewalld is not installed and the bus is not
 * asked at all, unless `needBus` (--store-firewalld): a run that does not
 * need firewalld never waits for a bus (issue 22 item 6).
 */
export async function probeFirewalld(
  io: OpsIo,
  options: { needBus?: boolean } = {},
): Promise<FirewalldHost> {
  const directXmlPath = `${io.firewalldDir}/direct.xml`;
  const confPath = `${io.firewalldDir}/firewalld.conf`;
  const installed = await parentExists(directXmlPath);
  const host: FirewalldHost = {
    running: false,
    installed,
    directXmlPath,
    confPath,
    // No firewalld.conf: firewalld's defaults apply (RFC3964_IPv4=yes).
    conf: installed ? await io.readFile(confPath).catch(() => null) : null,
  };
  if (!installed && !options.needBus) return host;
  try {
    host.bus = await io.connectFirewalld();
  } catch (e) {
    if (!(e instanceof FirewalldError && e.code === "bus_address")) throw e;
    host.unknown = e.message;
    host.unknownCause = "address";
    return host;
  }
  try {
    host.running = await host.bus.isRunning();
  } catch (e) {
    // An unreachable bus reads as "not running"; a silent one is unknown.
    if (e instanceof FirewalldError && e.code === "bus_timeout") {
      host.unknown = `${e.message}, so whether firewalld runs is unknown`;
      host.unknownCause = "timeout";
    }
  }
  return host;
}

export function closeFirewalld(host: FirewalldHost): void {
  host.bus?.close();
}

/** direct.xml's parser, imported only when there is a file to parse: it loads sax (CommonJS). */
function loadDirectXml(): Promise<typeof import("../firewalld/direct_xml.ts")> {
  return import("../firewalld/direct_xml.ts");
}

/** Checks that --store-firewalld can work here, before anything changes. */
export async function checkStoreFirewalld(
  io: OpsIo,
  config: Config,
  host: FirewalldHost,
  families: FamilyPlan[],
  options: { writable: boolean },
): Promise<void> {
  if (host.unknown && host.unknownCause === "timeout") {
    throw new UserError(
      `--store-firewalld: ${host.unknown} (and so is where the rules must go). Check the ` +
        "system bus (`systemctl status dbus`) and run the command again. Nothing was changed.",
    );
  }
  if (host.unknown) {
    throw new UserError(
      `--store-firewalld: ${host.unknown}, so whether firewalld runs (and so where the rules ` +
        "must go) cannot be told. Unset DBUS_SYSTEM_BUS_ADDRESS or point it at one of those " +
        "sockets. Nothing was changed.",
      EXIT.USAGE,
    );
  }
  if (!host.running && !host.installed) {
    throw new UserError(
      `--store-firewalld: firewalld is neither running (on the system bus) nor installed ` +
        `(${
          host.directXmlPath.replace(/\/direct\.xml$/, "")
        } does not exist). Install firewalld, ` +
        `or drop --store-firewalld. Nothing was changed.`,
    );
  }
  await checkIpv6Redirect(io, config, host, families);
  await checkInboundRedirect(io, config, host);
  if (!host.running) {
    // A malformed, symlinked or unwritable direct.xml must stop the install
    // before the kernel changes (issue 14 item 2).
    const text = await readDirectXmlFile(host.directXmlPath);
    if (text !== null) {
      const entries = (await loadDirectXml()).directXmlEntries(text, host.directXmlPath);
      assertNoForeignJump(entries, { kind: "direct.xml", path: host.directXmlPath });
    }
    if (options.writable) await assertReplaceable(host.directXmlPath);
    else await assertNotSymlink(host.directXmlPath);
  } else {
    // An admin's rule jumping to our chain: refused before anything changes.
    await assertNoForeignJumps({ bus: host.bus }, { directXmlPath: host.directXmlPath });
  }
}

/**
 * Refuses, before anything changes, while a direct rule that is not ours
 * jumps to one of our chains where firewalld keeps its config now (permanent
 * and runtime while it runs, direct.xml while it is stopped). Whatever else
 * goes wrong reading them is left to the step that reads them next, which
 * reports it as it always did (uninstall goes on past a malformed file).
 */
export async function refuseForeignJumps(host: FirewalldHost): Promise<void> {
  if (host.unknown || (!host.running && !host.installed)) return;
  try {
    await assertNoForeignJumps(
      { bus: host.running ? host.bus : undefined },
      { directXmlPath: host.directXmlPath },
    );
  } catch (e) {
    if (e instanceof FirewalldError && e.code === "foreign_jump") throw e;
  }
}

/**
 * firewalld's own output chain rejects IPv6 redirected to ::1 when
 * RFC3964_IPv4 is on (firewalld F7, docs/firewalld.md#f7: `::1` lies in `::/96`),
 * unless it is 2.3+ and accepts redirected output first (F11). Refuse rather
 * than switch it. A stopped firewalld counts too: it builds that chain at its
 * next start. The same chain filters whatever backend redirected the packet,
 * so both backends check. The version is read only when the setting is on.
 */
export async function checkIpv6Redirect(
  io: OpsIo,
  config: Config,
  host: FirewalldHost,
  families: FamilyPlan[],
): Promise<void> {
  if (!families.some((f) => f.family === 6)) return;
  const version = rfc3964NeedsVersion(host.conf, config.ipFamilyMode)
    ? (await regimeFacts(io, host)).version
    : null;
  assertIpv6RedirectWorks(host.conf, {
    ipFamilyMode: config.ipFamilyMode,
    path: host.confPath,
    version,
  });
}

/**
 * firewalld 2.3+ with StrictForwardPorts=yes rejects every redirected
 * inbound connection (firewalld F13, docs/firewalld.md#f13). Refuse rather
 * than switch it. A stopped firewalld counts too: it builds that chain at
 * its next start. Both backends check, since firewalld's chain filters
 * whatever redirected the packet. The version is read only when the
 * setting is on.
 */
export async function checkInboundRedirect(
  io: OpsIo,
  config: Config,
  host: FirewalldHost,
): Promise<void> {
  if (!config.redirect.inbound.enabled || !strictForwardPorts(host.conf)) return;
  const facts = await regimeFacts(io, host);
  assertInboundRedirectWorks(host.conf, facts.version, { inbound: true, path: host.confPath });
}

/**
 * For an install without --store-firewalld: finds our entries that an
 * earlier `--store-firewalld` left in firewalld's permanent or runtime config
 * (firewalld running) or in direct.xml (stopped). They would bring that
 * rule set back at the next reload or start, so install removes them. Null
 * when there are none, or when they cannot be checked (a warning says why).
 */
export async function findStaleEntries(
  io: OpsIo,
  host: FirewalldHost,
): Promise<PersistReport | null> {
  if (host.unknown) {
    warn(
      io,
      `${host.unknown}; firewalld's state is unknown: if it runs, it flushes these rules at its ` +
        "next reload, and entries an earlier --store-firewalld left in its permanent config were " +
        "not checked",
    );
    return null;
  }
  const found = (
    mechanism: PersistReport["mechanism"],
    removed: PersistReport["removed"],
  ): PersistReport | null =>
    removed.permanent.length + removed.runtime.length + removed.directXml.length === 0
      ? null
      : { mechanism, added: [], removed, directXmlPath: host.directXmlPath };
  // Removing ours would leave an admin's rule jumping to a missing chain.
  await refuseForeignJumps(host);
  if (host.running) {
    const state = await firewalldState({ bus: host.bus }, { directXmlPath: host.directXmlPath });
    return found("dbus", {
      permanent: state.permanent ?? [],
      runtime: state.runtime ?? [],
      directXml: [],
    });
  }
  if (!host.installed) return null;
  try {
    const text = await readDirectXmlFile(host.directXmlPath);
    const entries = text === null
      ? []
      : (await loadDirectXml()).directXmlEntries(text, host.directXmlPath).filter(isOurEntry);
    return found("direct.xml", { permanent: [], runtime: [], directXml: entries });
  } catch (e) {
    if (!(e instanceof FirewalldError)) throw e;
    warn(
      io,
      `could not check ${host.directXmlPath} for entries an earlier --store-firewalld left: ` +
        e.message,
    );
    return null;
  }
}

/** Why stale entries are removed, said once with the removal. */
export const STALE_NOTE =
  "they were stored by an earlier --store-firewalld and would bring that rule " +
  "set back at firewalld's next reload or start; install without --store-firewalld takes them out";

/**
 * Removes stale entries (see {@link findStaleEntries}); the caller prints
 * the report and {@link STALE_NOTE}. With firewalld running this goes over
 * D-Bus and must run before the kernel changes (firewalld takes its own
 * runtime rules out); with direct.xml it is the install transaction's
 * persist step, so a failed write rolls the kernel back.
 */
export function removeStaleEntries(host: FirewalldHost): Promise<PersistReport> {
  return removeOurEntries(host);
}

/** The dry-run lines for stale entries. */
export function describeStaleDryRun(stale: PersistReport): string {
  return describePersist(stale).map((l) => `${l.replace(": removed ", ": would remove ")}\n`)
    .join("");
}

/** The direct entries our rule sets become. */
export function directEntriesFor(families: FamilyPlan[], verbose: boolean): DirectEntry[] {
  const ruleSets: RuleSet[] = families.map((f) => f.ruleSet);
  return toDirectEntries(ruleSets, { verbose, comments: families.every((f) => f.comments) });
}

/** The dry-run listing of what --store-firewalld would write. */
export function renderFirewalldDryRun(host: FirewalldHost, entries: DirectEntry[]): string {
  const where = host.running
    ? "firewalld permanent and runtime direct config, over D-Bus"
    : host.directXmlPath;
  return `\n### firewalld (${where}) ###\n\n${entries.map(renderElement).join("\n")}\n`;
}

/**
 * One line per place for a store or removal report, in the order things
 * happened: our old entries out, then the new ones in. Counts are rules and
 * chains, as on the kernel lines (counts.ts).
 */
export function describePersist(report: PersistReport): string[] {
  const lines: string[] = [];
  const n = (xs: DirectEntry[]) => formatCounts(countEntries(xs));
  if (report.mechanism === "dbus" && report.runtimeOnly) {
    // An install waiting for confirmation: the permanent config is confirm's (src/ops/confirm).
    if (report.removed.runtime.length > 0) {
      lines.push(
        `firewalld (D-Bus): removed ${n(report.removed.runtime)} from the runtime direct config`,
      );
    }
    if (report.added.length > 0) {
      lines.push(
        `firewalld (D-Bus): applied ${n(report.added)} in the runtime direct config only ` +
          "(the permanent one is written at confirm)",
      );
    }
  } else if (report.mechanism === "dbus") {
    if (report.removed.permanent.length + report.removed.runtime.length > 0) {
      lines.push(
        `firewalld (D-Bus): removed ${n(report.removed.permanent)} from the permanent and ` +
          `${n(report.removed.runtime)} from the runtime direct config`,
      );
    }
    if (report.added.length > 0) {
      lines.push(
        `firewalld (D-Bus): stored ${n(report.added)} in the permanent and runtime direct config`,
      );
    }
  } else {
    if (report.removed.directXml.length > 0) {
      lines.push(`firewalld (${report.directXmlPath}): removed ${n(report.removed.directXml)}`);
    }
    if (report.added.length > 0) {
      lines.push(`firewalld (${report.directXmlPath}): stored ${n(report.added)}`);
    }
  }
  return lines;
}

/** Uninstall's firewalld part: our entries out of runtime + permanent, or out of direct.xml. */
export function removeOurEntries(host: FirewalldHost): Promise<PersistReport> {
  return removeFromFirewalld(
    { bus: host.running ? host.bus : undefined },
    { directXmlPath: host.directXmlPath },
  );
}

function sameEntries(a: DirectEntry[], b: DirectEntry[]): boolean {
  return a.length === b.length && a.every((x) => b.some((y) => sameEntry(x, y)));
}

/**
 * Where our entries are persisted, for `status`: firewalld's permanent and
 * runtime direct config (when it runs) and direct.xml, for the probed
 * `host` (the caller closes it). Undefined when the config does not ask
 * for --store-firewalld and none of our entries is stored.
 */
export async function persistenceStatus(
  io: OpsIo,
  config: Config,
  plannedFamilies: FamilyPlan[],
  host: FirewalldHost,
): Promise<PersistenceStatus | undefined> {
  if (host.unknown) {
    return {
      mechanism: "firewalld",
      firewalld: "unknown",
      permanent: null,
      runtime: null,
      directXml: null,
      stored: false,
      detail: host.unknown,
    };
  }
  // What install stores in firewalld for this config on this host
  // (systemd/choice.ts): nothing with --backend nftables, whose rules the
  // direct interface cannot hold, and nothing when firewalld is absent and
  // the systemd unit persists instead. Ours stored there anyway is drift.
  const storeFirewalld = persistChoice(config, host).firewalld;
  const families = config.backend === "nftables" ? [] : plannedFamilies;
  if (!host.running && !host.installed) {
    if (!storeFirewalld) return undefined;
    return {
      mechanism: "firewalld",
      firewalld: "not installed",
      permanent: null,
      runtime: null,
      directXml: null,
      stored: false,
      matches: false,
    };
  }
  const state = await firewalldState(
    { bus: host.running ? host.bus : undefined },
    { directXmlPath: host.directXmlPath },
  );
  // While firewalld runs, its permanent config is what survives a reboot.
  const stored = (host.running ? state.permanent : state.directXml) ?? [];
  const expected = directEntriesFor(families, config.verbose);
  const anywhere = [state.permanent, state.runtime, state.directXml].some((xs) =>
    (xs ?? []).length > 0
  );
  // firewalld stopped: direct.xml is the only place our entries can be, and
  // one that cannot be read may hold them (status must not say "clean").
  const unreadable = !host.running && state.directXmlError !== undefined;
  // Nothing asked for and nothing of ours anywhere: persistence is not a topic.
  if (!storeFirewalld && !anywhere && !unreadable) return undefined;
  if (anywhere && (await firewalldRegime(io, host)).regime === "on_direct") {
    warn(io, FLUSH_WARNING);
  }
  const asked = storeFirewalld || stored.length > 0;
  const matches = sameEntries(stored, expected) &&
    (!host.running || sameEntries(state.runtime ?? [], expected));
  return {
    mechanism: "firewalld",
    firewalld: state.state ?? "stopped",
    permanent: state.permanent ? countEntries(state.permanent) : null,
    runtime: state.runtime ? countEntries(state.runtime) : null,
    directXml: state.directXml ? countEntries(state.directXml) : null,
    stored: stored.length > 0,
    ...(asked ? { matches } : {}),
    ...(unreadable ? { unreadable } : {}),
    ...(state.directXmlError ? { detail: state.directXmlError } : {}),
  };
}

/** The regime of this host's firewalld (flush_regime.ts), read from the bus, firewalld.conf and its source. */
export async function firewalldRegime(
  io: OpsIo,
  host: FirewalldHost,
): Promise<{ regime: FlushRegime; why: string; proven: boolean }> {
  return flushRegime(await regimeFacts(io, host));
}

const factsOf = new WeakMap<FirewalldHost, Promise<RegimeFacts>>();

/** firewalld's version and flush facts (flush_facts.ts), read once per probed host. */
function regimeFacts(io: OpsIo, host: FirewalldHost): Promise<RegimeFacts> {
  let facts = factsOf.get(host);
  if (!facts) {
    facts = readRegimeFacts(host.conf, host.running ? host.bus : undefined, (p) => io.readFile(p));
    factsOf.set(host, facts);
  }
  return facts;
}

/** firewalld's direct entries now, foreign and ours: runtime and permanent, or direct.xml. */
async function allDirectEntries(host: FirewalldHost): Promise<DirectEntry[]> {
  if (host.running) {
    const bus = host.bus!;
    const permanent = await bus.getPermanent();
    return [
      ...await bus.getRuntimeChains(),
      ...await bus.getRuntimeRules(),
      ...await bus.getRuntimePassthroughs(),
      ...permanent.chains,
      ...permanent.rules,
      ...permanent.passthroughs,
    ];
  }
  const text = await readDirectXmlFile(host.directXmlPath);
  return text === null ? [] : (await loadDirectXml()).directXmlEntries(text, host.directXmlPath);
}

/**
 * The iptables rules and chains firewalld's flush would take: every table of
 * both families in the backend our rules go through. firewalld flushes
 * through the system's `iptables` (/usr/sbin/iptables, ipXtables.py), which
 * is the backend detection picks on a host where firewalld put its direct
 * rules (kumactl's order: nft first, then legacy; a legacy-only host has
 * legacy as the system's iptables too).
 */
async function foreignInBackend(plan: InstallPlan, dumps: LiveDumps): Promise<ForeignIptables[]> {
  const mode = plan.families.find((f) => f.exe)?.exe?.mode;
  if (mode === undefined) return [];
  const found: ForeignIptables[] = [];
  for (const exe of plan.executables.filter((e) => e.mode === mode)) {
    for (const item of notOurs(await dumps.read(exe))) found.push({ family: exe.family, ...item });
  }
  return found;
}

/**
 * For an install without --store-firewalld: whether firewalld, running or
 * stopped, leaves iptables alone (docs/firewalld.md#f12), so that the rules
 * survive its reloads and its next start. Our own entries do not count: this
 * install removes them.
 */
export async function firewalldLeavesIptables(io: OpsIo, host: FirewalldHost): Promise<boolean> {
  if (!host.installed || host.unknown) return false;
  // Only a proven regime: an unknown one is "on_direct" for the store's
  // refusal, and would read here as "firewalld leaves iptables alone".
  const { regime, proven } = await firewalldRegime(io, host);
  if (regime !== "on_direct" || !proven) return false;
  return (await allDirectEntries(host)).every(isOurEntry);
}

/** At most this many foreign rules are listed; the rest are counted. */
const LISTED = 20;

/**
 * Before a `--store-firewalld` changes anything: would our direct entries
 * make firewalld flush iptables rules that are not ours (firewalld F12,
 * docs/firewalld.md#f12)? Refuses with exit 1 when they would and the flush
 * was not accepted (`--allow-firewalld-flush`); warns when it was.
 */
export async function checkFirewalldFlush(
  io: OpsIo,
  config: Config,
  host: FirewalldHost,
  plan: InstallPlan,
  dumps: LiveDumps,
): Promise<FlushVerdict & { regime: FlushRegime }> {
  const { regime, why } = await firewalldRegime(io, host);
  if (regime === "always") return { regime, flushes: false, refuse: false, foreign: [] };
  const verdict = flushVerdict({
    regime,
    direct: await allDirectEntries(host),
    foreign: await foreignInBackend(plan, dumps),
    allowFlush: config.allowFirewalldFlush,
  });
  if (verdict.foreign.length === 0) return { regime, ...verdict };
  const lines = describeForeign(verdict.foreign.slice(0, LISTED)).map((l) => `  ${l}`);
  if (verdict.foreign.length > LISTED) {
    lines.push(`  ... and ${verdict.foreign.length - LISTED} more`);
  }
  const when = host.running ? "at once, and again at every reload" : "at its next start";
  const list = lines.join("\n");
  if (verdict.refuse) {
    throw new UserError(
      `--store-firewalld: ${why} leaves iptables alone only while its direct config is empty; ` +
        `storing our rules there would make it flush every iptables table ${when}, taking ` +
        `these rules and chains that are not ours:\n${list}\n` +
        "Use --backend nftables instead (its table lives beside firewalld and needs no direct " +
        "entry), or accept the flush with --allow-firewalld-flush. Nothing was changed.",
      EXIT.FAILURE,
    );
  }
  warn(
    io,
    `--allow-firewalld-flush: ${why} will flush every iptables table ${when}, taking these ` +
      `rules and chains that are not ours:\n${list}`,
  );
  return { regime, ...verdict };
}

/** The warning while our entries sit in a firewalld that then flushes iptables at every reload. */
export { FLUSH_WARNING };
