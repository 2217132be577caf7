/**
 * The command line: `install`, `uninstall`, `status`, `config`, `completion`.
 * Plain code that takes argv and a CliIo and returns the exit code, so tests
 * drive it like eemeli/yaml's `cli(stdin, done, argv)`.
 *
 * Two parsers, one dispatch: the common command lines of the config commands
 * are parsed by fast_argv.ts without loading commander; every other one
 * (help, completion, errors) by commander (program.ts), imported only then.
 * Both hand the same parsed command line to runCommandLine (dispatch.ts).
 * Why two: docs/decisions.md#d2 (commander adds a quarter to an install's
 * start-up).
 */
import { escapeUnprintable } from "../config/errors.ts";
import type { CliIo } from "./io.ts";
import { describeError, exitCodeOf, PROGRAM_NAME } from "../ops/errors.ts";
import type { CommandLine } from "./command_line.ts";
import { parseFastArgv } from "./fast_argv.ts";
import { runCommandLine } from "./dispatch.ts";
import { settleOutput } from "./output.ts";

/**
 * Runs the CLI and returns the exit code, one of `EXIT` (exit_codes.ts); a
 * lost stdout changes it only as output.ts says.
 */
export async function cli(argv: string[], io: CliIo): Promise<number> {
  // Help, --version and completion never reach `run`: their output is their result.
  let outputIsResult = true;
  const run = (line: CommandLine) => {
    outputIsResult = line.command === "config";
    return runCommandLine(line, io);
  };
  const { code, message } = settleOutput(await runArgv(argv, io, run), io.outFailure?.(), {
    outputIsResult,
  });
  if (message) io.err(`${PROGRAM_NAME}: ${message}\n`);
  return code;
}

async function runArgv(
  argv: string[],
  io: CliIo,
  run: (line: CommandLine) => Promise<number>,
): Promise<number> {
  try {
    const line = parseFastArgv(argv);
    if (line !== null) return await run(line);
    return await (await import("./program.ts")).runProgram(argv, io, run);
  } catch (e) {
    // Values are escaped where messages quote them; no control character reaches the terminal.
    io.err(
      `${PROGRAM_NAME}: ${escapeUnprintable(describeError(e, io.env), { keepLines: true })}\n`,
    );
    return exitCodeOf(e);
  }
}
