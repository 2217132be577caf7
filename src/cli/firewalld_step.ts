/**
 * The CLI's side of firewalld: find out whether it runs, and store, list or
 * remove our direct entries with the right mechanism (D-Bus when it runs,
 * direct.xml when it is installed but stopped).
 */
import type { Config } from "../config/types.ts";
import type { FirewalldBus } from "../firewalld/bus.ts";
import { type DirectEntry, sameEntry, toDirectEntries } from "../firewalld/direct_entries.ts";
import { parseDirectXml, renderElement } from "../firewalld/direct_xml.ts";
import { parentExists, readDirectXmlFile } from "../firewalld/direct_xml_file.ts";
import { MAX_INPUT_BYTES, readTextFileBounded } from "../host/bounded_read.ts";
import { assertIpv6RedirectWorks } from "../firewalld/rfc3964.ts";
import { firewalldState, type PersistReport, removeFromFirewalld } from "../firewalld/persist.ts";
import type { PersistenceStatus } from "./status_report.ts";
import type { RuleSet } from "../rules/model.ts";
import type { FamilyPlan } from "./plan.ts";
import type { CliIo } from "./io.ts";
import { UserError } from "./errors.ts";

export interface FirewalldHost {
  /** Connected lazily; undefined when the bus socket does not even exist. */
  bus?: FirewalldBus;
  running: boolean;
  /** The config directory exists (firewalld is installed). */
  installed: boolean;
  directXmlPath: string;
  confPath: string;
}

/** Looks for firewalld on the system bus and on disk. Close with {@link closeFirewalld}. */
export async function probeFirewalld(io: CliIo): Promise<FirewalldHost> {
  const directXmlPath = `${io.firewalldDir}/direct.xml`;
  const bus = await io.connectFirewalld();
  let running = false;
  try {
    running = await bus.isRunning();
  } catch {
    // An unreachable bus reads as "not running".
  }
  return {
    bus,
    running,
    installed: await parentExists(directXmlPath),
    directXmlPath,
    confPath: `${io.firewalldDir}/firewalld.conf`,
  };
}

export function closeFirewalld(host: FirewalldHost): void {
  host.bus?.close();
}

/** Checks that --store-firewalld can work here, before anything changes. */
export async function checkStoreFirewalld(
  config: Config,
  host: FirewalldHost,
  families: FamilyPlan[],
): Promise<void> {
  if (!host.running && !host.installed) {
    throw new UserError(
      `--store-firewalld: firewalld is neither running (on the system bus) nor installed ` +
        `(${
          host.directXmlPath.replace(/\/direct\.xml$/, "")
        } does not exist). Install firewalld, ` +
        `or drop --store-firewalld. Nothing was changed.`,
    );
  }
  if (families.some((f) => f.family === 6)) {
    // firewalld's own output chain rejects IPv6 redirected to ::1 when
    // RFC3964_IPv4 is on (measured, testing.md). Refuse rather than switch it.
    // A stopped firewalld counts too: it applies direct.xml at its next start.
    let conf: string | null = null;
    try {
      conf = await readTextFileBounded(host.confPath, { maxBytes: MAX_INPUT_BYTES });
    } catch {
      // No firewalld.conf: firewalld's defaults apply (RFC3964_IPv4=yes).
    }
    assertIpv6RedirectWorks(conf, { ipFamilyMode: config.ipFamilyMode, path: host.confPath });
  }
  if (!host.running) {
    // A malformed direct.xml must stop the install before the kernel changes.
    const text = await readDirectXmlFile(host.directXmlPath);
    if (text !== null) parseDirectXml(text, host.directXmlPath);
  }
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

/** One line per place for a store or removal report. */
export function describePersist(report: PersistReport, verb: string): string[] {
  const lines: string[] = [];
  const n = (xs: unknown[]) => `${xs.length} entr${xs.length === 1 ? "y" : "ies"}`;
  if (report.mechanism === "dbus") {
    if (report.added.length > 0) {
      lines.push(
        `firewalld (D-Bus): ${verb} ${n(report.added)} in the permanent and runtime direct config`,
      );
    }
    if (report.removed.permanent.length + report.removed.runtime.length > 0) {
      lines.push(
        `firewalld (D-Bus): removed ${n(report.removed.permanent)} from the permanent and ` +
          `${n(report.removed.runtime)} from the runtime direct config`,
      );
    }
  } else {
    if (report.added.length > 0) {
      lines.push(`firewalld (${report.directXmlPath}): ${verb} ${n(report.added)}`);
    }
    if (report.removed.directXml.length > 0) {
      lines.push(`firewalld (${report.directXmlPath}): removed ${n(report.removed.directXml)}`);
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
 * runtime direct config (when it runs) and direct.xml. Undefined when the
 * config does not ask for --store-firewalld and none of our entries is stored.
 */
export async function persistenceStatus(
  io: CliIo,
  config: Config,
  families: FamilyPlan[],
): Promise<PersistenceStatus | undefined> {
  const host = await probeFirewalld(io);
  try {
    if (!host.running && !host.installed) {
      if (!config.storeFirewalld) return undefined;
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
    // Nothing asked for and nothing of ours anywhere: persistence is not a topic.
    if (!config.storeFirewalld && !anywhere) return undefined;
    const asked = config.storeFirewalld || stored.length > 0;
    const matches = sameEntries(stored, expected) &&
      (!host.running || sameEntries(state.runtime ?? [], expected));
    return {
      mechanism: "firewalld",
      firewalld: state.state ?? "stopped",
      permanent: state.permanent?.length ?? null,
      runtime: state.runtime?.length ?? null,
      directXml: state.directXml?.length ?? null,
      stored: stored.length > 0,
      ...(asked ? { matches } : {}),
      ...(state.directXmlError ? { detail: state.directXmlError } : {}),
    };
  } finally {
    closeFirewalld(host);
  }
}
