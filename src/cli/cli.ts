/**
 * The command line: `install`, `uninstall`, `status`, `config`, `completion`.
 * Plain code that takes argv and a CliIo and returns the exit code, so tests
 * drive it like eemeli/yaml's `cli(stdin, done, argv)`.
 *
 * commander (program.ts) parses; the config commands' actions go through
 * runCommandLine (dispatch.ts).
 */
import { ConfigError } from "../config/errors.ts";
import { EXIT } from "./exit_codes.ts";
import type { CliIo } from "./io.ts";
import { describeError, isUserError, PROGRAM_NAME } from "./errors.ts";
import type { CommandLine } from "./command_line.ts";
import { runCommandLine } from "./dispatch.ts";

/** Runs the CLI and returns the exit code, one of `EXIT` (exit_codes.ts). */
export async function cli(argv: string[], io: CliIo): Promise<number> {
  const run = (line: CommandLine) => runCommandLine(line, io);
  try {
    return await (await import("./program.ts")).runProgram(argv, io, run);
  } catch (e) {
    io.err(`${PROGRAM_NAME}: ${describeError(e, io.env)}\n`);
    if (e instanceof ConfigError || isUserError(e)) {
      return e instanceof ConfigError ? EXIT.USAGE : e.exitCode;
    }
    return EXIT.FAILURE;
  }
}
