/**
 * `kuma-tproxy completion bash|zsh`: completion scripts generated from the
 * commander program itself, so they never fall behind the flags. A flag's
 * value completes to its words (`--backend`: iptables, nftables), to file
 * names only where it is a path (`--config`), and to nothing otherwise;
 * hidden flags (kumactl's deprecated spellings and no-op flags) are not
 * offered.
 */
import type { Command } from "commander";
import { EXIT } from "../ops/exit_codes.ts";
import type { CliIo } from "./io.ts";
import { UserError } from "../ops/errors.ts";
import { quoted } from "../config/errors.ts";
import { CONFIG_FLAGS } from "../config/flags.ts";
import { TARGET } from "./command_line.ts";

/** The shells `completion` writes a script for. */
export const SHELLS = ["bash", "zsh"] as const;

/** What a shell completes after a flag or for a positional word. */
export type Completes = readonly string[] | "files" | "nothing";

interface OptionWords {
  flag: string;
  description: string;
  /** Undefined for a flag that takes no value. */
  value?: { name: string; completes: Completes };
}

interface CommandWords {
  name: string;
  options: OptionWords[];
  /** The positional word, if the command takes one. */
  argument?: { name: string; completes: Completes };
}

/** The words of each command's positional argument. */
const ARGUMENT_WORDS: Record<string, readonly string[]> = { target: [TARGET], shell: SHELLS };

/** What a flag's value completes to: its words, file names for a path, else nothing. */
function valueCompletes(flag: string): Completes {
  if (flag === "--config" || flag === "--config-file") return "files";
  const spec = CONFIG_FLAGS.find((s) => s.flag === flag);
  return spec?.completes ?? "nothing";
}

/** Subcommands, their visible options (sorted) and positional word, from the program definition. */
export function completionWords(program: Command): CommandWords[] {
  return program.commands.map((c) => {
    const options: OptionWords[] = c.options.filter((o) => !o.hidden).flatMap((o) =>
      [o.long, o.short].filter((f): f is string => !!f).map((flag) => ({
        flag,
        description: o.description,
        ...(o.required || o.optional
          ? {
            value: {
              name: /<(.*)>|\[(.*)\]/.exec(o.flags)?.slice(1).find((x) => x) ?? "value",
              completes: valueCompletes(o.long ?? flag),
            },
          }
          : {}),
      }))
    );
    options.push({ flag: "--help", description: "display help for command" });
    options.sort((a, b) => a.flag < b.flag ? -1 : a.flag > b.flag ? 1 : 0);
    const arg = c.registeredArguments[0];
    return {
      name: c.name(),
      options,
      ...(arg
        ? { argument: { name: arg.name(), completes: ARGUMENT_WORDS[arg.name()] ?? "nothing" } }
        : {}),
    };
  });
}

const functionName = (program: Command) => `_${program.name().replace(/-/g, "_")}`;

/** A bash `COMPREPLY=(...)` for `completes`, from the word being typed (`$cur`). */
function bashReply(completes: Completes): string {
  if (completes === "files") return `COMPREPLY=($(compgen -f -- "$cur"))`;
  if (completes === "nothing") return "COMPREPLY=()";
  return `COMPREPLY=($(compgen -W "${completes.join(" ")}" -- "$cur"))`;
}

export function bashCompletion(program: Command): string {
  const words = completionWords(program);
  const cases = words.map((w) => {
    // Flags whose value is being typed, grouped by what it completes to.
    const byReply = new Map<string, string[]>();
    for (const o of w.options) {
      if (!o.value) continue;
      const reply = bashReply(o.value.completes);
      byReply.set(reply, [...(byReply.get(reply) ?? []), o.flag]);
    }
    const values = [...byReply].map(([reply, flags]) =>
      `        ${flags.join("|")}) ${reply}; return ;;`
    );
    return [
      `    ${w.name})`,
      `      opts="${w.options.map((o) => o.flag).join(" ")}"`,
      ...(values.length > 0 ? ['      case "$prev" in', ...values, "      esac"] : []),
      `      ${bashReply(w.argument?.completes ?? "nothing").replace("COMPREPLY=", "args=")}`,
      "      ;;",
    ].join("\n");
  }).join("\n");
  const names = words.map((w) => w.name).join(" ");
  const name = functionName(program);
  return `# bash completion for ${program.name()}
${name}() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}"
  local cmd="\${COMP_WORDS[1]}" opts="" args=()
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W "${names} help --help --version" -- "$cur"))
    return
  fi
  case "$cmd" in
${cases}
    help) args=($(compgen -W "${names}" -- "$cur")) ;;
  esac
  case "$cur" in
    -*) COMPREPLY=($(compgen -W "$opts" -- "$cur")) ;;
    *) COMPREPLY=("\${args[@]}") ;;
  esac
}
complete -F ${name} ${program.name()}
`;
}

/** Text inside a zsh `_arguments` spec in single quotes: no quote, and `[]:` escaped. */
function zshText(text: string): string {
  return text.replace(/'/g, "").replace(/([[\]:\\])/g, "\\$1");
}

/** The action part of a zsh `_arguments` spec. */
function zshAction(completes: Completes): string {
  if (completes === "files") return "_files";
  if (completes === "nothing") return " ";
  return `(${completes.join(" ")})`;
}

export function zshCompletion(program: Command): string {
  const words = completionWords(program);
  const describe = program.commands.map((c) => `    '${c.name()}:${zshText(c.description())}'`)
    .join("\n");
  const cases = words.map((w) => {
    const specs = w.options.map((o) => {
      const head = `${o.flag}[${zshText(o.description)}]`;
      return o.value
        ? `'${head}:${zshText(o.value.name)}:${zshAction(o.value.completes)}'`
        : `'${head}'`;
    });
    if (w.argument) {
      specs.push(`'1:${zshText(w.argument.name)}:${zshAction(w.argument.completes)}'`);
    }
    return `    ${w.name}) _arguments ${specs.join(" ")} ;;`;
  }).concat(`    help) _arguments '1:command:(${words.map((w) => w.name).join(" ")})' ;;`).join(
    "\n",
  );
  const name = functionName(program);
  return `#compdef ${program.name()}
${name}() {
  local -a commands
  commands=(
${describe}
    'help:display help for a command'
  )
  if (( CURRENT == 2 )); then
    _describe 'command' commands
    return
  fi
  # The command's own words: its positional argument is word 1.
  local cmd="$words[2]"
  shift words
  (( CURRENT-- ))
  case "$cmd" in
${cases}
  esac
}
# Loaded from $fpath the file is the function body's caller; sourced, it registers itself.
if [ "$funcstack[1]" = "_${program.name()}" ]; then
  ${name} "$@"
else
  compdef ${name} ${program.name()}
fi
`;
}

export function runCompletion(program: Command, shell: string, io: CliIo): number {
  if (shell === "bash") io.out(bashCompletion(program));
  else if (shell === "zsh") io.out(zshCompletion(program));
  else {
    throw new UserError(
      `completion: unknown shell ${quoted(shell)} (expected ${SHELLS.join(" or ")})`,
      EXIT.USAGE,
    );
  }
  return EXIT.OK;
}
