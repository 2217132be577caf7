/**
 * Uninstall's side of firewalld: our direct entries out of a running
 * firewalld (through D-Bus: it owns its runtime rules and its permanent
 * config) or out of a stopped one's direct.xml (the direct.xml target), as a
 * `Removal`: what went, and what may remain. Uninstall is the emergency
 * path, so nothing here stops it: a failure becomes a warning and a line of
 * what remains.
 *
 * @module
 */
import { describeEntry } from "../firewalld/direct_entries.ts";
import { FirewalldError } from "../firewalld/errors.ts";
import { firewalldState } from "../firewalld/persist.ts";
import { countEntries, formatCounts } from "./counts.ts";
import { describePersist, type FirewalldHost, removeOurEntries } from "./firewalld_step.ts";
import type { Removal } from "./targets/target.ts";

/**
 * What is left in a direct.xml we cannot parse, and how to remove it by
 * hand: the file is never rewritten then, since we cannot tell our entries
 * from the rest (the same test as `isOurEntry`).
 */
function malformedDirectXml(path: string, e: Error): string {
  return leftInDirectXml(`${path} cannot be parsed (${e.message}), so it was left untouched`);
}

/**
 * The same for a direct.xml that cannot be read (too large, not a regular
 * file, not UTF-8: firewalld also takes an `encoding="ISO-8859-1"` file,
 * our reader does not) or written (a read-only or full file system).
 */
function leftInDirectXml(what: string): string {
  return `${what}, and any of our ` +
    `entries in it remain; firewalld applies them at its next start. Edit it by hand: delete ` +
    `every <chain> whose chain starts with KUMA_MESH_, and every <rule> that sits in such a ` +
    `chain or carries --comment kuma/mesh/transparent/proxy/... (a rule of yours that jumps to a ` +
    `KUMA_MESH_ chain must go or change too: firewalld fails on a jump to a missing chain); ` +
    `then run uninstall again`;
}

/** Nothing removed, nothing left. */
export const NOTHING: Removal = { lines: [], removed: 0, warnings: [], remains: [] };

/** firewalld could not be asked or failed: the kernel rules still go, and uninstall says what may remain. */
export function firewalldFailure(e: unknown): Removal {
  const why = e instanceof Error ? e.message : String(e);
  // Where firewalld runs, its runtime copy of our rules no longer matches
  // the kernel once they are gone: a reload makes it consistent again.
  return {
    ...NOTHING,
    warnings: [`firewalld: ${why}; removing our kernel rules anyway`],
    remains: [
      `firewalld: ${why}; its entries of ours may remain (where it runs: ` +
      "`firewall-cmd --reload`, then run uninstall again)",
    ],
  };
}

/**
 * Our entries out of firewalld: through D-Bus while it runs (it owns its
 * runtime rules, so it must take them out itself: deleting them behind its
 * back would make its later removeRule calls fail), out of direct.xml while
 * it is stopped. A direct.xml that cannot be parsed does not stop the
 * uninstall: the kernel rules are the emergency, the file stays as it is.
 */
export async function removeFirewalldEntries(
  host: FirewalldHost,
  dryRun: boolean,
): Promise<Removal> {
  if (host.unknown) {
    // firewalld's state unknown: the kernel rules still go, but not silently.
    return {
      ...NOTHING,
      warnings: [`${host.unknown}; firewalld's entries of ours could not be checked or removed`],
      remains: [`firewalld: ${host.unknown}; its entries of ours were not checked`],
    };
  }
  if (!host.running && !host.installed) return NOTHING;
  let found: { lines: string[]; removed: number; remains?: string };
  try {
    found = dryRun ? await listEntries(host) : await removeEntries(host);
  } catch (e) {
    return firewalldFailure(e);
  }
  if (!found.remains) return { ...NOTHING, lines: found.lines, removed: found.removed };
  return {
    lines: found.lines,
    removed: found.removed,
    warnings: [`${host.directXmlPath} was left as it is; removing our kernel rules anyway`],
    remains: [found.remains],
  };
}

/** The dry run: what would be removed, where. */
async function listEntries(
  host: FirewalldHost,
): Promise<{ lines: string[]; removed: number; remains?: string }> {
  const state = await firewalldState(
    { bus: host.running ? host.bus : undefined },
    { directXmlPath: host.directXmlPath },
  );
  const places: [string, typeof state.permanent][] = host.running
    ? [["permanent", state.permanent], ["runtime", state.runtime]]
    : [[host.directXmlPath, state.directXml]];
  const lines: string[] = [];
  let removed = 0;
  for (const [where, entries] of places) {
    if (!entries || entries.length === 0) continue;
    removed += entries.length;
    lines.push(`firewalld (${where}): would remove ${formatCounts(countEntries(entries))}`);
    for (const e of entries) lines.push(`  ${describeEntry(e)}`);
  }
  if (host.running || state.directXmlError === undefined) return { lines, removed };
  const e = new Error(state.directXmlError);
  return {
    lines,
    removed,
    remains: state.directXmlErrorCode === "malformed_direct_xml"
      ? malformedDirectXml(host.directXmlPath, e)
      : leftInDirectXml(state.directXmlError),
  };
}

async function removeEntries(
  host: FirewalldHost,
): Promise<{ lines: string[]; removed: number; remains?: string }> {
  let report;
  try {
    report = await removeOurEntries(host);
  } catch (e) {
    if (e instanceof FirewalldError && e.code === "malformed_direct_xml") {
      return { lines: [], removed: 0, remains: malformedDirectXml(host.directXmlPath, e) };
    }
    // Stopped firewalld: direct.xml could not be read or written (the
    // firewalld part changed nothing else). Running: it answered and failed.
    if (!host.running && e instanceof FirewalldError) {
      return { lines: [], removed: 0, remains: leftInDirectXml(e.message) };
    }
    throw e;
  }
  return {
    lines: describePersist(report),
    removed: report.removed.permanent.length + report.removed.runtime.length +
      report.removed.directXml.length,
  };
}
