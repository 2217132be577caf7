/**
 * The `--json` form of install's and uninstall's report (report.ts), and
 * the exit-code meaning every JSON report carries.
 *
 * @module
 */
import { EXIT_MEANINGS } from "../ops/exit_codes.ts";
import type { RunReport } from "../ops/report.ts";

/**
 * What an exit code means, as `--help` says it.
 *
 * @example
 * ```ts
 * import { exitMeaning } from "./report_json.ts";
 * if (!exitMeaning(2).startsWith("usage or config error")) throw new Error();
 * ```
 */
export function exitMeaning(code: number): string {
  return EXIT_MEANINGS.find((e) => e.code === code)?.meaning ?? "unknown exit code";
}

/** The report as one JSON object on a line of its own (pretty-printed, as `status --json`). */
export function renderReportJson(report: RunReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
