/**
 * The commander program: every command line the fast path (fast_argv.ts)
 * does not take, so help, completion and every usage error. cli.ts imports
 * it only then: commander is CommonJS and costs start-up time.
 *
 * @module
 */
import { Command, CommanderError } from "commander";
import { VERSION } from "../version.ts";
import { EXIT, exitCodesHelp } from "../ops/exit_codes.ts";
import type { CliIo } from "./io.ts";
import { PROGRAM_NAME, UserError } from "../ops/errors.ts";
import { escapeUnprintable, quoted } from "../config/errors.ts";
import { registerCommands, type RunCommandLine } from "./commands.ts";

/**
 * Builds the commander program; the config commands hand their command line
 * to `run`, and every action stores its exit code in `result`.
 */
export function buildProgram(io: CliIo, result: { code: number }, run: RunCommandLine): Command {
  const program = new Command(PROGRAM_NAME)
    .description(
      "Install, persist and remove the iptables rules that put Kuma's data plane proxy " +
        "(kuma-dp with Envoy) transparently in the path of this host's traffic.",
    )
    .version(VERSION, "-V, --version", "print the version")
    .helpCommand("help [command]", "display help for a command")
    .exitOverride()
    // Commander's own `error: ...` lines are replaced by ours (usageMessage),
    // so every error reads `kuma-tproxy: ...`. Subcommands inherit this.
    .configureOutput({ writeOut: io.out, writeErr: io.err, outputError: () => {} })
    .addHelpText("after", `\n${exitCodesHelp()}`);
  registerCommands(program, io, result, run);
  return program;
}

/**
 * Parses `argv` with commander and runs the command through `run`. Returns
 * the exit code; a usage error is thrown as a UserError with exit code 2 in
 * our one format, any other error as it was.
 */
export async function runProgram(argv: string[], io: CliIo, run: RunCommandLine): Promise<number> {
  const result = { code: EXIT.OK };
  const program = buildProgram(io, result, run);
  // commander answers `help nope` with the whole help on stderr and no word on what is wrong.
  if (argv[0] === "help" && argv[1] === "help") argv = ["help", ...argv.slice(2)];
  const known = (word: string) => program.commands.some((c) => c.name() === word);
  if (argv[0] === "help" && argv.length > 1 && !known(argv[1])) {
    throw new UserError(
      `unknown command ${quoted(argv[1])} for help; run with --help for usage`,
      EXIT.USAGE,
    );
  }
  try {
    await program.parseAsync(argv, { from: "user" });
    return result.code;
  } catch (e) {
    if (!(e instanceof CommanderError)) throw e;
    // --help and --version end here too, with exit code 0.
    if (e.exitCode === 0) return EXIT.OK;
    throw new UserError(usageMessage(e), EXIT.USAGE);
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
  // A hint is a line of its own in parentheses; any other line break is in
  // a word typed on the command line, and is escaped with the rest of it.
  const [first = "", ...hints] = e.message.split(/\n(?=\(.*\)$)/m).map((l) => l.trim())
    .filter((l) => l);
  const notes = hints.map((h) =>
    h.replace(/^\((.*)\)$/s, "$1").replace(/^./, (c) => c.toLowerCase())
  );
  const what = escapeUnprintable(first.replace(/^error: /, "").replace(/\.$/, ""));
  return `${what}${notes.length > 0 ? ` (${notes.join("; ")})` : ""}; run with --help for usage`;
}
