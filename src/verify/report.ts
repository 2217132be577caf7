/**
 * The verify report: one line per path in text, one object in JSON (schema
 * in src/verify/README.md), and the exit code: 0 only when every checked
 * path holds.
 *
 * @module
 */
import type { PathResult } from "./judge.ts";

export interface VerifyReport {
  /** `ok`: every checked path holds; `failed`: at least one does not. */
  state: "ok" | "failed";
  /** How many paths were checked, held, failed, and left unchecked. */
  checked: number;
  ok: number;
  failed: number;
  unchecked: number;
  paths: PathResult[];
}

export function verifyReport(paths: PathResult[]): VerifyReport {
  const count = (v: PathResult["verdict"]) => paths.filter((p) => p.verdict === v).length;
  const failed = count("failed");
  return {
    state: failed > 0 ? "failed" : "ok",
    checked: count("ok") + failed,
    ok: count("ok"),
    failed,
    unchecked: count("unchecked"),
    paths,
  };
}

const WORD = { ok: "ok", failed: "FAILED", unchecked: "not checked" } as const;

/**
 * One line per path: `ok outbound IPv4: redirected to port 15001: ...`.
 *
 * @example
 * ```ts
 * import { renderVerifyText, verifyReport } from "./report.ts";
 * const text = renderVerifyText(verifyReport([{ path: "inbound", verdict: "unchecked", reason: "r" }]));
 * if (!text.startsWith("not checked inbound: r\n")) throw new Error(text);
 * ```
 */
export function renderVerifyText(report: VerifyReport): string {
  return report.paths.map((p) =>
    `${WORD[p.verdict]} ${p.path}: ${p.reason}${p.probe ? ` [${p.probe}]` : ""}\n`
  ).join("");
}

/** The summary line, for stderr: `3 of 4 checked paths hold, 2 not checked`. */
export function verifySummary(report: VerifyReport): string {
  return `${report.ok} of ${report.checked} checked paths hold` +
    (report.unchecked ? `, ${report.unchecked} not checked` : "");
}

export function renderVerifyJson(report: VerifyReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
