/** kumactl-style messages on stderr: `# line` and `# [WARNING] line`. stdout carries results only. */
import type { CliIo } from "./io.ts";
import { escapeUnprintable } from "../config/errors.ts";

// Values in a line are escaped where they are quoted (quoted(), showValue()); this
// keeps a control character that got through from reaching the terminal.
export function info(io: CliIo, line: string): void {
  io.err(`# ${escapeUnprintable(line, { keepLines: true })}\n`);
}

export function warn(io: CliIo, line: string): void {
  io.err(`# [WARNING] ${escapeUnprintable(line, { keepLines: true })}\n`);
}
