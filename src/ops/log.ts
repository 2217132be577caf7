/** kumactl-style messages on stderr: `# line` and `# [WARNING] line`. stdout carries results only. */
import type { OpsIo } from "./io.ts";
import { escapeUnprintable } from "../config/errors.ts";
import type { TargetChange } from "./report.ts";

// Values in a line are escaped where they are quoted (quoted(), showValue()); this
// keeps a control character that got through from reaching the terminal.
export function info(io: OpsIo, line: string): void {
  io.report?.message("info", line);
  io.err(`# ${escapeUnprintable(line, { keepLines: true })}\n`);
}

export function warn(io: OpsIo, line: string): void {
  io.report?.message("warning", line);
  io.err(`# [WARNING] ${escapeUnprintable(line, { keepLines: true })}\n`);
}

/** A result line on stdout that says what changed in a persistence target, recorded as such. */
export function persistLine(io: OpsIo, target: TargetChange["target"], line: string): void {
  io.report?.persisted(target, line);
  io.out(`${line}\n`);
}

/**
 * An install that found everything as planned (install_program.ts's
 * `report-unchanged`): one result line, `changed: false` in the report.
 * Returns true, for the caller's flag.
 *
 * @example
 * ```ts ignore
 * "report-unchanged": () => Promise.resolve(void (unchanged = reportUnchanged(io))),
 * ```
 */
export function reportUnchanged(io: OpsIo): true {
  io.out(
    "unchanged: the rules and the stored files already equal this config; nothing was written\n",
  );
  io.report?.settle(false);
  return true;
}
