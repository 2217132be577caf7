/**
 * A parsed command line of install, uninstall, status or config: what both
 * parsers produce, commander's (commands.ts with config_flags.ts) and the
 * fast one (fast_argv.ts), and what the one dispatch (dispatch.ts) runs.
 * Nothing here loads commander.
 *
 * @module
 */
import { type FlagSpec, NO_OP_FLAGS, type NoOpFlag, noOpNote } from "../config/flags.ts";
import type { FlagInput } from "../config/sources.ts";

/** The optional word that keeps `kumactl install transparent-proxy ...` command lines working. */
export const TARGET = "transparent-proxy";

/** The config inputs typed on the command line, in the form `resolveConfig` wants. */
export interface CommandInputs {
  /** Values of --config / --config-file, in order. */
  configSources: string[];
  /** Each flag given (by its spelling, aliases apart), ordered by its last occurrence. */
  flags: FlagInput[];
  /** One warning for each no-op kumactl flag given, in NO_OP_FLAGS order. */
  notes: string[];
}

/** A command that reads the config, with its positional target and options. */
export type CommandLine =
  | CommandInputs
    & (
      | {
        command: "install";
        target: string | undefined;
        json: boolean;
        verify?: boolean;
        /** `--confirm-timeout` as typed; parsed by the dispatch (exit 2 when bad). */
        confirmTimeout?: string;
      }
      | { command: "uninstall" | "status"; target: string | undefined; json: boolean }
      | { command: "verify"; json: boolean; listen: boolean }
      | { command: "config"; explain: boolean; output?: string }
    )
  | { command: "confirm"; json: boolean };

/**
 * The flag inputs of a parse that saw the flags `order` (as typed, with
 * repeats): each spelling once, at its last occurrence, so a later spelling
 * wins. `rawOf` gives a spelling's value, or undefined to leave it out.
 *
 * @example
 * ```ts
 * import { flagInputs } from "./command_line.ts";
 * const spec = { flag: "--a", path: "a", kind: "value", description: "" } as const;
 * const flags = flagInputs(["--a", "--b", "--a"], () => spec, (f) => f === "--a" ? "1" : "2");
 * if (flags.map((f) => f.flag).join() !== "--b,--a") throw new Error();
 * ```
 */
export function flagInputs(
  order: readonly string[],
  specOf: (flag: string) => FlagSpec,
  rawOf: (flag: string) => FlagInput["raw"] | undefined,
): FlagInput[] {
  const flags: FlagInput[] = [];
  for (const flag of [...new Set([...order].reverse())].reverse()) {
    const raw = rawOf(flag);
    if (raw !== undefined) flags.push({ flag, path: specOf(flag).path, raw });
  }
  return flags;
}

/** The notes for the no-op flags `given` says were typed, in NO_OP_FLAGS order. */
export function noOpNotes(given: (noop: NoOpFlag) => boolean): string[] {
  return NO_OP_FLAGS.filter(given).map(noOpNote);
}
