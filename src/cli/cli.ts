/**
 * The command line: `install`, `uninstall`, `status`, `config`, `completion`.
 * Plain code that takes argv and a CliIo and returns the exit code, so tests
 * drive it like eemeli/yaml's `cli(stdin, done, argv)`.
 */
import { Command, CommanderError } from "commander";
import { ConfigError } from "../config/errors.ts";
import { VERSION } from "../version.ts";
import { EXIT, exitCodesHelp } from "./exit_codes.ts";
import type { CliIo } from "./io.ts";
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
    .exitOverride()
    // Commander's own `error: ...` lines are replaced by ours (usageMessage),
    // so every error reads `kuma-tproxy: ...`. Subcommands inherit this.
    .configureOutput({ writeOut: io.out, writeErr: io.err, outputError: () => {} })
    .addHelpText("after", `\n${exitCodesHelp()}`);
  registerCommands(program, io, result);
  return program;
}

/** Runs the CLI and returns the exit code, one of `EXIT` (exit_codes.ts). */
export async function cli(argv: string[], io: CliIo): Promise<number> {
  const result = { code: EXIT.OK };
  const program = buildProgram(io, result);
  try {
    await program.parseAsync(argv, { from: "user" });
    return result.code;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version end here too, with exit code 0.
      if (e.exitCode === 0) return EXIT.OK;
      io.err(`${PROGRAM_NAME}: ${usageMessage(e)}\n`);
      return EXIT.USAGE;
    }
    io.err(`${PROGRAM_NAME}: ${describeError(e, io.env)}\n`);
    if (e instanceof ConfigError || isUserError(e)) {
      return e instanceof ConfigError ? EXIT.USAGE : e.exitCode;
    }
    return EXIT.FAILURE;
  }
}

/**
 * A commander error in our one format: "error: unknown option '--x'\n(Did
 * you mean --y?)" becomes "unknown option '--x' (did you mean --y?); run
 * with --help for usage".
 */
export function usageMessage(e: CommanderError): string {
  // Without a command, commander has already printed the help to stderr.
  if (e.code === "commander.help") return "no command given (expected one of the commands above)";
  const [first = "", ...hints] = e.message.split("\n").map((l) => l.trim()).filter((l) => l);
  const notes = hints.map((h) =>
    h.replace(/^\((.*)\)$/, "$1").replace(/^./, (c) => c.toLowerCase())
  );
  const what = first.replace(/^error: /, "").replace(/\.$/, "");
  return `${what}${notes.length > 0 ? ` (${notes.join("; ")})` : ""}; run with --help for usage`;
}
