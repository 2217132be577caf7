/**
 * `kuma-tproxy completion bash|zsh`: completion scripts generated from the
 * commander program itself, so they never fall behind the flags.
 */
import type { Command } from "commander";
import { EXIT } from "./exit_codes.ts";
import type { CliIo } from "./io.ts";
import { UserError } from "./errors.ts";

interface CommandWords {
  name: string;
  options: string[];
}

/** Subcommands and their long options, sorted, from the program definition. */
export function completionWords(program: Command): CommandWords[] {
  return program.commands.map((c) => ({
    name: c.name(),
    options: c.options.flatMap((o) => [o.long, o.short]).filter((f): f is string => !!f).concat(
      "--help",
    ).sort(),
  }));
}

export function bashCompletion(program: Command): string {
  const words = completionWords(program);
  const cases = words.map((w) => `    ${w.name}) opts="${w.options.join(" ")}" ;;`).join("\n");
  return `# bash completion for ${program.name()}
_${program.name().replace(/-/g, "_")}() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" cmd="\${COMP_WORDS[1]}" opts
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W "${words.map((w) => w.name).join(" ")} --help --version" -- "$cur"))
    return
  fi
  case "$cmd" in
${cases}
    *) opts="" ;;
  esac
  case "$cur" in
    -*) COMPREPLY=($(compgen -W "$opts" -- "$cur")) ;;
    *) COMPREPLY=($(compgen -f -- "$cur")) ;;
  esac
}
complete -F _${program.name().replace(/-/g, "_")} ${program.name()}
`;
}

export function zshCompletion(program: Command): string {
  const words = completionWords(program);
  const describe = program.commands.map((c) =>
    `    '${c.name()}:${c.description().replace(/'/g, "").replace(/:/g, "\\:")}'`
  ).join("\n");
  const cases = words.map((w) =>
    `    ${w.name}) _arguments '*: :_files' ${w.options.map((o) => `'${o}'`).join(" ")} ;;`
  )
    .join("\n");
  return `#compdef ${program.name()}
_${program.name().replace(/-/g, "_")}() {
  local -a commands
  commands=(
${describe}
  )
  if (( CURRENT == 2 )); then
    _describe 'command' commands
    return
  fi
  case "$words[2]" in
${cases}
  esac
}
# Loaded from $fpath the file is the function body's caller; sourced, it registers itself.
if [ "$funcstack[1]" = "_${program.name()}" ]; then
  _${program.name().replace(/-/g, "_")} "$@"
else
  compdef _${program.name().replace(/-/g, "_")} ${program.name()}
fi
`;
}

export function runCompletion(program: Command, shell: string, io: CliIo): number {
  if (shell === "bash") io.out(bashCompletion(program));
  else if (shell === "zsh") io.out(zshCompletion(program));
  else {throw new UserError(
      `completion: unknown shell '${shell}' (expected bash or zsh)`,
      EXIT.USAGE,
    );}
  return EXIT.OK;
}
