/**
 * The human form of a status report: one summary line per family, then the
 * differing rules indented below it, so that drift is named, not just
 * counted.
 *
 * @module
 */
import type {
  BootUnitStatus,
  FamilyNote,
  FamilyStatus,
  PersistenceStatus,
  StatusReport,
  TableDrift,
} from "../ops/status_report.ts";
import type { TargetStatus } from "../ops/targets/target.ts";
import { formatCounts } from "../ops/counts.ts";

function summary(drift: TableDrift[]): string {
  return drift.map((d) => {
    const parts = [];
    if (d.missing.length > 0) parts.push(`${d.missing.length} missing`);
    if (d.unexpected.length > 0) parts.push(`${d.unexpected.length} unexpected`);
    if (d.reordered) parts.push("order differs");
    return `${d.table}: ${parts.join(", ")}`;
  }).join("; ");
}

function familyLines(f: FamilyStatus): string[] {
  const head = `IPv${f.family}:`;
  let line: string;
  if (!f.planned) {
    line = `${head} installed (${f.backend}), but the config does not install IPv${f.family}`;
  } else if (!f.installed) {
    line = `${head} not installed (${f.backend})`;
  } else if (f.matches) {
    line = `${head} installed (${f.backend}), matches config`;
  } else {
    line = `${head} installed (${f.backend}), differs from config (${summary(f.drift)})`;
  }
  const lines = [line];
  // A family that is simply not installed needs no list of every missing rule.
  if (f.installed || !f.planned) {
    for (const d of f.drift) {
      for (const rule of d.missing) lines.push(`  missing    ${d.table}: ${rule}`);
      for (const rule of d.unexpected) lines.push(`  unexpected ${d.table}: ${rule}`);
    }
  }
  for (const o of f.otherBackends) {
    lines.push(
      `  also ${formatCounts(o)} of ours in ${o.mode}, which the config does not use ` +
        `(the kernel runs both backends; run uninstall, then install)`,
    );
    for (const line of o.notOurs ?? []) lines.push(`  unexpected ${o.mode} ${line}`);
  }
  return lines;
}

function bootLine(b: BootUnitStatus): string {
  const head = `Boot (systemd${b.systemdRunning ? "" : ", not running"}):`;
  if (b.unit === "foreign") {
    return `${head} ${b.paths.unit} is not ours (kuma-tproxy did not write it)`;
  }
  if (b.unit === "absent") return `${head} not installed`;
  const parts = [
    "unit installed",
    b.enabled ? "enabled" : "not enabled",
    b.config === "ours"
      ? null
      : `${b.paths.config} ${b.config === "absent" ? "missing" : "not ours"}`,
    b.refused ? `${b.paths.config} ${b.refused}: the boot run refuses it` : null,
    b.matches ? "matches config" : "differs from config (run install --store-systemd again)",
  ];
  return `${head} ${parts.filter((p) => p !== null).join(", ")}`;
}

function persistenceLine(p: PersistenceStatus): string {
  const state = p.firewalld === "unknown" || p.unreadable
    ? "unknown"
    : !p.stored
    ? "not stored"
    : p.matches === false
    ? "stored, differs from config"
    : "stored";
  // Counted and worded as install counts what it stores (counts.ts).
  const where = ([
    ["permanent config", p.permanent],
    ["runtime config", p.runtime],
    ["direct.xml", p.directXml],
  ] as const)
    .filter(([, n]) => n !== null).map(([name, n]) => `${name}: ${formatCounts(n!)}`).join(", ");
  return `Persistence (${p.mechanism}, ${p.firewalld}): ${state}` +
    (where ? `; ${where}` : "") + (p.detail ? ` (${p.detail})` : "");
}

/** A target's line: its own account where it gives one, else what it holds. */
function targetLine(t: TargetStatus): string {
  if (t.detail?.mechanism === "firewalld") return persistenceLine(t.detail);
  if (t.detail?.mechanism === "systemd") return bootLine(t.detail);
  const holds = t.unreadable
    ? "unknown (cannot be read)"
    : !t.stored
    ? t.matches === false ? "not stored, differs from config" : "not stored"
    : t.matches === false
    ? "stored, differs from config"
    : "stored";
  return `Persistence (${t.target}): ${holds}`;
}

/**
 * Renders the report for stdout.
 *
 * @example
 * ```ts
 * import { renderStatusText } from "./status_text.ts";
 * const text = renderStatusText({ state: "installed", families: [{ family: 4, planned: true,
 *   backend: "nft", installed: true, matches: true, drift: [], otherBackends: [] }], targets: [] });
 * if (text !== "IPv4: installed (nft), matches config\n") throw new Error(text);
 * ```
 */
export function renderStatusText(report: StatusReport): string {
  const lines = report.families.flatMap(familyLines);
  const where = (n: FamilyNote) => `IPv${n.family}${n.mode ? ` (${n.mode})` : ""}`;
  for (const n of report.skipped ?? []) lines.push(`${where(n)}: not configured: ${n.reason}`);
  for (const n of report.uninspected ?? []) {
    lines.push(`${where(n)}: cannot be inspected, our rules may be there: ${n.reason}`);
  }
  for (const t of report.targets) lines.push(targetLine(t));
  const w = report.pending;
  if (w?.confirmed) {
    lines.push(
      `Confirmed, not all stored: run kuma-tproxy confirm to finish storing (${
        w.deferred.join(", ")
      }); the rules stay`,
    );
  } else if (w?.overdue) {
    lines.push(
      `Pending confirmation: overdue since ${w.deadline}, not rolled back yet (its watcher is ` +
        "gone, busy or failed: see /run/kuma-tproxy/confirm.log); kuma-tproxy confirm or the next " +
        "install rolls it back",
    );
  } else if (w) {
    lines.push(
      `Pending confirmation: until ${w.deadline}${
        w.applied ? "" : " (the install did not finish)"
      }; run kuma-tproxy confirm to keep these rules${
        w.deferred.length > 0 ? ` and store them (${w.deferred.join(", ")})` : ""
      }, or the previous rules come back`,
    );
  }
  return lines.map((l) => `${l}\n`).join("");
}
