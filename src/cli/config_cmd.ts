/**
 * `kuma-tproxy config [--explain] [--output FILE|-]`: the resolved
 * configuration, where each value came from, or the file kuma-dp reads
 * (written by src/ops/config_output.ts: cli/ writes no file). `--output -`
 * prints that file's text, for a path outside /etc/kuma-tproxy, which the
 * tool's permissions do not let it write (docs/decisions.md, D4).
 */
import type { Resolved } from "../config/resolve.ts";
import { renderConfigYaml, renderExplain } from "../config/explain.ts";
import { EXIT } from "../ops/exit_codes.ts";
import { PROGRAM_NAME, UserError } from "../ops/errors.ts";
import type { CliIo } from "./io.ts";

export async function runConfig(
  resolved: Resolved,
  io: CliIo,
  options: { explain: boolean; output?: string },
): Promise<number> {
  if (options.output === "-") {
    if (options.explain) {
      throw new UserError("--output - prints the file to stdout; drop --explain", EXIT.USAGE);
    }
    const { renderOutputConfig } = await import("../ops/config_output.ts");
    io.out(await renderOutputConfig(resolved.config));
    return EXIT.OK;
  }
  if (options.output !== undefined) {
    const { writeOutputConfig } = await import("../ops/config_output.ts");
    await writeOutputConfig(options.output, resolved.config);
    io.err(`${PROGRAM_NAME}: wrote ${options.output}\n`);
    if (!options.explain) return EXIT.OK;
  }
  io.out(options.explain ? renderExplain(resolved) : renderConfigYaml(resolved.config));
  return EXIT.OK;
}
