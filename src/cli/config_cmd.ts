/** `kuma-tproxy config [--explain]`: the resolved configuration, and where each value came from. */
import type { Resolved } from "../config/resolve.ts";
import { renderConfigYaml, renderExplain } from "../config/explain.ts";
import { EXIT } from "../ops/exit_codes.ts";
import type { CliIo } from "./io.ts";

export function runConfig(resolved: Resolved, io: CliIo, options: { explain: boolean }): number {
  io.out(options.explain ? renderExplain(resolved) : renderConfigYaml(resolved.config));
  return EXIT.OK;
}
