/**
 * The command line: `install`, `uninstall`, `status`, `config`, `completion`.
 * Plain code that takes argv and a CliIo and returns the exit code, so tests
 * drive it like eemeli/yaml's `cli(stdin, done, argv)`.
 */
import { Command, CommanderError } from "commander";
import { ConfigError } from "../config/errors.ts";
import { VERSION } from "../version.ts";
import { type CliIo, EXIT } from "./io.ts";
import { describeError, isUserError } from "./errors.ts";
import { registerCommands } from "./commands.ts";

export const PROGRAM_NAME = "kuma-tproxy";

/** Builds the commander program; every action stores its exit code in `result`. */
export function buildProgram(io: CliIo, result: { code: number }): Command {
  const program = new Command(PROGRAM_NAME)
    .description(
      "Install, persist and remove the iptables rules that put Kuma's data plane proxy " +
        "(kuma-dp with Envoy) transparently in the path of this host's traffic.",
    )
    .version(VERSION, "-V, --version", "print the version")
    .helpCommand(false)
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err });
  registerCommands(program, io, result);
  return program;
}

/** Runs the CLI and returns the exit code: 0 success, 1 failure, 2 usage or config error. */
export async function cli(argv: string[], io: CliIo): Promise<number> {
  const result = { code: EXIT.OK };
  const program = buildProgram(io, result);
  try {
    await program.parseAsync(argv, { from: "user" });
    return result.code;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version end here too, with exit code 0.
      return e.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    }
    io.err(`${PROGRAM_NAME}: ${describeError(e, io.env)}\n`);
    if (e instanceof ConfigError || isUserError(e)) {
      return e instanceof ConfigError ? EXIT.USAGE : e.exitCode;
    }
    return EXIT.FAILURE;
  }
}
