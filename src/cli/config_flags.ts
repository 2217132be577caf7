/**
 * The commander wiring of the config flags: registers the table of
 * `src/config/flags.ts` on a command and collects what the user typed in the
 * form `resolveConfig` wants.
 *
 * @module
 */
import { type Command, Option } from "commander";
import { CONFIG_FLAGS, type FlagSpec, NO_OP_FLAGS } from "../config/flags.ts";
import { type CommandInputs, flagInputs, noOpNotes } from "./command_line.ts";
import { type PflagKind, usePflagBooleans } from "./pflag_booleans.ts";

/** Per-command parse state: what the user typed, in order. */
interface ParseState {
  configSources: string[];
  /** Flags (as registered, aliases included) in order of occurrence. */
  order: string[];
  /** Raw value of each boolean flag's last occurrence. */
  bools: Map<string, string | boolean>;
  specs: Map<string, FlagSpec>;
}

const states = new WeakMap<Command, ParseState>();

function attribute(flag: string): string {
  return flag.slice(2).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/**
 * Registers `--config`/`--config-file` (repeatable) and the config flags
 * for `command` on `cmd`.
 *
 * @example
 * ```ts
 * import { Command } from "commander";
 * import { addConfigOptions, collectInputs } from "./config_flags.ts";
 * const cmd = new Command("install").exitOverride();
 * addConfigOptions(cmd);
 * cmd.parse(["--redirect-inbound=false", "--config", "a.yaml"], { from: "user" });
 * const { configSources, flags } = collectInputs(cmd);
 * if (configSources[0] !== "a.yaml" || flags[0].raw !== "false") throw new Error();
 * ```
 */
export function addConfigOptions(cmd: Command): void {
  const state: ParseState = { configSources: [], order: [], bools: new Map(), specs: new Map() };
  states.set(cmd, state);
  const addSource = (value: string) => {
    state.configSources.push(value);
    return value;
  };
  cmd.addOption(
    new Option(
      "--config <source>",
      "config file (YAML or JSON), comma-separated files, or - for stdin (repeatable; later wins)",
    ).argParser(addSource),
  );
  cmd.addOption(new Option("--config-file <source>", "alias of --config").argParser(addSource));

  for (const spec of CONFIG_FLAGS) {
    for (const flag of [spec.flag, ...(spec.aliases ?? [])]) {
      state.specs.set(flag, spec);
      const hidden = flag !== spec.flag;
      const option = spec.kind === "boolean"
        ? new Option(flag, spec.description)
        : new Option(`${flag} <${spec.valueName ?? "value"}>`, spec.description);
      if (spec.kind === "repeatable") {
        option.argParser((v: string, prev: string[] | undefined) => [...(prev ?? []), v]);
      }
      cmd.addOption(hidden ? option.hideHelp() : option);
    }
  }

  for (const noop of NO_OP_FLAGS) {
    const option = noop.valueName
      ? new Option(`${noop.flag} <${noop.valueName}>`, `ignored: ${noop.note}`)
      : new Option(noop.flag, `ignored: ${noop.note}`);
    cmd.addOption(option.hideHelp());
  }

  // `--experimental-transparent-proxy-engine=true` is still a bare flag.
  const bare = new Set(NO_OP_FLAGS.filter((n) => !n.valueName).map((n) => n.flag));
  const kindOf = (flag: string): PflagKind | undefined => {
    if (bare.has(flag)) return "bare";
    const spec = state.specs.get(flag);
    if (!spec) return undefined;
    return spec.kind === "boolean" ? "boolean" : "value";
  };
  usePflagBooleans(cmd, kindOf, (parse) => {
    state.configSources.length = 0;
    state.order = parse.order;
    state.bools = parse.bools;
  });
}

/**
 * What the user gave on the command line, in the form `resolveConfig`
 * wants: only options set on the command line, in the order typed.
 */
export function collectInputs(cmd: Command): CommandInputs {
  const state = states.get(cmd);
  if (!state) throw new Error("collectInputs(): addConfigOptions() was not called on this command");
  const flags = flagInputs(state.order, (flag) => state.specs.get(flag)!, (flag) => {
    const key = attribute(flag);
    if (cmd.getOptionValueSource(key) !== "cli") return undefined;
    return state.specs.get(flag)!.kind === "boolean"
      ? state.bools.get(flag) ?? true
      : (cmd.getOptionValue(key) as string | string[]);
  });
  const notes = noOpNotes((n) => cmd.getOptionValueSource(attribute(n.flag)) === "cli");
  return { configSources: [...state.configSources], flags, notes };
}
