/**
 * `kuma-tproxy config [--explain] [--output FILE]`: the resolved
 * configuration, where each value came from, or the file kuma-dp reads
 * (written by src/ops/config_output.ts: cli/ writes no file).
 */
import type { Resolved } from "../config/resolve.ts";
import { renderConfigYaml, renderExplain } from "../config/explain.ts";
import { EXIT } from "../ops/exit_codes.ts";
import { PROGRAM_NAME } from "../ops/errors.ts";
import type { CliIo } from "./io.ts";

export async function runConfig(
  resolved: Resolved,
  io: CliIo,
  options: { explain: boolean; output?: string },
): Promise<number> {
  if (options.output !== undefined) {
    const { writeOutputConfig } = await import("../ops/config_output.ts");
    await writeOutputConfig(options.output, resolved.config);
    io.err(`${PROGRAM_NAME}: wrote ${options.output}\n`);
    if (!options.explain) return EXIT.OK;
  }
  io.out(options.explain ? renderExplain(resolved) : renderConfigYaml(resolved.config));
  return EXIT.OK;
}
