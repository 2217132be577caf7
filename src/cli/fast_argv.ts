/**
 * The fast path of the command line: a strict parser for the common command
 * lines of install, uninstall, status and config, so that they run without
 * loading commander (a CommonJS package: loading it bootstraps Deno's Node
 * compatibility layer, bench/README.md).
 *
 * It takes only what it fully understands and returns exactly what commander
 * with config_flags.ts would hand to the dispatch for the same argv. For
 * anything else (help, --version, an unknown or short option, a missing
 * value, a value that starts with `-`, `--`, a bad target, extra words, any
 * other command) it returns null and cli() runs commander, the reference and
 * the only path for help, completion and every usage error.
 * tests/unit/cli/fast_argv_test.ts holds it to commander's result.
 *
 * @module
 */
import { CONFIG_FLAGS, type FlagSpec, NO_OP_FLAGS } from "../config/flags.ts";
import type { FlagInput } from "../config/sources.ts";
import { type CommandLine, flagInputs, noOpNotes, TARGET } from "./command_line.ts";

/** Every config flag by each of its spellings. */
const FLAG_SPECS: ReadonlyMap<string, FlagSpec> = new Map(
  CONFIG_FLAGS.flatMap((spec) => [spec.flag, ...(spec.aliases ?? [])].map((f) => [f, spec])),
);

/** kumactl's no-op flags: whether each takes a value. */
const NO_OP_VALUES: ReadonlyMap<string, boolean> = new Map(
  NO_OP_FLAGS.map((n) => [n.flag, n.valueName !== undefined]),
);

/** The config sources, repeatable, in the order given. */
const CONFIG_SOURCE_OPTIONS = new Set(["--config", "--config-file"]);

/** The one option of its own each command has, a bare switch (commander refuses `=value`). */
const SWITCHES = {
  install: "--json",
  uninstall: "--json",
  status: "--json",
  config: "--explain",
};

type FastCommand = keyof typeof SWITCHES;

function isFastCommand(word: string | undefined): word is FastCommand {
  return word !== undefined && Object.hasOwn(SWITCHES, word);
}

/**
 * Parses `argv` (without the program name) if it is a plain command line of
 * install, uninstall, status or config; null means "ask commander".
 *
 * @example
 * ```ts
 * import { parseFastArgv } from "./fast_argv.ts";
 * const line = parseFastArgv(["install", "--redirect-dns=false", "transparent-proxy"]);
 * if (line?.command !== "install" || line.flags[0].raw !== "false") throw new Error();
 * if (parseFastArgv(["install", "--help"]) !== null) throw new Error();
 * ```
 */
export function parseFastArgv(argv: readonly string[]): CommandLine | null {
  const [command, ...args] = argv;
  if (!isFastCommand(command)) return null;
  const configSources: string[] = [];
  /** Config flags as typed, repeats included, and each spelling's value so far. */
  const order: string[] = [];
  const raws = new Map<string, FlagInput["raw"]>();
  const noOps = new Set<string>();
  const words: string[] = [];
  let switched = false;

  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (!arg.startsWith("--")) {
      // Short options (-h, -V), "-" and negative numbers are commander's.
      if (arg.startsWith("-")) return null;
      words.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = eq < 0 ? arg : arg.slice(0, eq);
    const inline = eq < 0 ? undefined : arg.slice(eq + 1);
    if (name === SWITCHES[command]) {
      if (inline !== undefined) return null;
      switched = true;
      continue;
    }
    const spec = FLAG_SPECS.get(name);
    const noOpTakesValue = NO_OP_VALUES.get(name);
    const isSource = CONFIG_SOURCE_OPTIONS.has(name);
    if (spec === undefined && noOpTakesValue === undefined && !isSource) return null;
    // Booleans and bare no-ops take `=value` only, never the next word (pflag_booleans.ts).
    const takesValue = isSource || (spec ? spec.kind !== "boolean" : noOpTakesValue!);
    let value = inline;
    if (takesValue && value === undefined) {
      value = args[++i];
      // A value that looks like an option (even -V, which commander's program
      // itself would act on) is left to commander; "-" is stdin.
      if (value === undefined || (value.startsWith("-") && value !== "-")) return null;
    }
    if (isSource) configSources.push(value!);
    else if (spec === undefined) noOps.add(name);
    else {
      order.push(name);
      if (spec.kind === "boolean") raws.set(name, value ?? true);
      else if (spec.kind === "repeatable") {
        raws.set(name, [...(raws.get(name) as string[] | undefined) ?? [], value!]);
      } else raws.set(name, value!);
    }
  }

  const withTarget = command !== "config";
  if (words.length > (withTarget ? 1 : 0)) return null;
  const target = words[0];
  if (target !== undefined && target !== TARGET) return null;
  const inputs = {
    configSources,
    flags: flagInputs(order, (flag) => FLAG_SPECS.get(flag)!, (flag) => raws.get(flag)),
    notes: noOpNotes((n) => noOps.has(n.flag)),
  };
  switch (command) {
    case "install":
    case "uninstall":
    case "status":
      return { command, target, json: switched, ...inputs };
    case "config":
      return { command, explain: switched, ...inputs };
  }
}
