/**
 * The `status --json` form of a status report, and of a status that could
 * not answer. A backend is named as `--backend` and the install lines name
 * it to a person: `iptables-nft`, `iptables-legacy`, `nftables`, never the
 * internal `nft` (which reads as the nftables backend).
 *
 * @module
 */
import type { FamilyNote, Mode, StatusReport } from "../ops/status_report.ts";
import { REPORT_SCHEMA_VERSION } from "../ops/report.ts";
import { exitMeaning } from "./report_json.ts";

/** What every status JSON object starts with: the schema, the command, the exit code. */
function head(exitCode: number) {
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    command: "status",
    exitCode,
    exitMeaning: exitMeaning(exitCode),
  };
}

/** The name of a backend in JSON. */
export function backendName(mode: Mode): string {
  return mode === "nftables" ? "nftables" : `iptables-${mode}`;
}

function noteNamed(n: FamilyNote) {
  return n.mode ? { ...n, mode: backendName(n.mode) } : n;
}

/**
 * The report as JSON text, backends named by {@linkcode backendName}.
 *
 * @example
 * ```ts
 * import { renderStatusJson } from "./status_json.ts";
 * const json = renderStatusJson({ state: "installed", families: [{ family: 4, planned: true,
 *   backend: "nft", installed: true, matches: true, drift: [], otherBackends: [] }], targets: [] });
 * if (JSON.parse(json).families[0].backend !== "iptables-nft") throw new Error(json);
 * ```
 */
export function renderStatusJson(
  report: StatusReport,
  run: { exitCode: number; warnings: string[] } = { exitCode: 0, warnings: [] },
): string {
  const { targets, ...rest } = report;
  // Schema version 1's slot per mechanism, kept for its readers: each is a
  // target's own account, taken from the list.
  const persistence = targets.find((t) => t.detail?.mechanism === "firewalld")?.detail;
  const boot = targets.find((t) => t.detail?.mechanism === "systemd")?.detail;
  const named = {
    ...head(run.exitCode),
    state: rest.state,
    families: report.families.map((f) => ({
      ...f,
      backend: backendName(f.backend),
      otherBackends: f.otherBackends.map((o) => ({ ...o, mode: backendName(o.mode) })),
    })),
    ...(persistence ? { persistence } : {}),
    ...(boot ? { boot } : {}),
    ...(report.uninspected ? { uninspected: report.uninspected.map(noteNamed) } : {}),
    ...(report.skipped ? { skipped: report.skipped.map(noteNamed) } : {}),
    targets: targets.map(({ detail: _, ...t }) => t),
    ...(report.pending ? { pending: report.pending } : {}),
    warnings: run.warnings,
  };
  return `${JSON.stringify(named, null, 2)}\n`;
}

/**
 * What `status --json` prints when it cannot answer (not root, a config
 * error, a backend it cannot run): a script that parses stdout still gets
 * one JSON object, with the exit code and the message stderr shows.
 *
 * @example
 * ```ts
 * import { renderStatusErrorJson } from "./status_json.ts";
 * const json = JSON.parse(renderStatusErrorJson("status needs root", 1));
 * if (json.state !== "error" || json.exitCode !== 1) throw new Error();
 * ```
 */
export function renderStatusErrorJson(
  message: string,
  exitCode: number,
  warnings: string[] = [],
): string {
  const report = { ...head(exitCode), state: "error", error: message, warnings };
  return `${JSON.stringify(report, null, 2)}\n`;
}
