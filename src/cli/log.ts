/** kumactl-style messages on stderr: `# line` and `# [WARNING] line`. stdout carries results only. */
import type { CliIo } from "./io.ts";

export function info(io: CliIo, line: string): void {
  io.err(`# ${line}\n`);
}

export function warn(io: CliIo, line: string): void {
  io.err(`# [WARNING] ${line}\n`);
}
