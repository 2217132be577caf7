/**
 * pflag-style boolean flags on top of commander, the one place that knows
 * about it. kumactl parses flags with spf13/pflag, which takes
 * `--redirect-inbound=false` for a boolean but never the next word as its
 * value (`install --redirect-dns transparent-proxy` keeps its positional
 * argument). commander knows neither form: a boolean option given `=false`
 * is an error. So before commander parses, `--flag=value` of a boolean is
 * rewritten to a bare `--flag` and the value kept aside.
 *
 * This overrides `Command.parseOptions`, a public but little-used commander
 * method that every parse of a command goes through (also of a subcommand
 * reached from its parent). tests/unit/cli/pflag_booleans_test.ts runs the
 * real commander, so an upgrade that stops calling it fails there.
 *
 * @module
 */
import type { Command } from "commander";

/** How the rewrite treats a flag: `boolean` takes `=value`, `bare` drops it, `value` is left alone. */
export type PflagKind = "boolean" | "bare" | "value";

/** What one parse saw, in the order typed. */
export interface PflagParse {
  /** The command line with `--flag=value` of boolean and bare flags made bare. */
  args: string[];
  /** Known boolean and value flags, in order of occurrence (bare ones are left out). */
  order: string[];
  /** The raw value of each boolean flag's last occurrence: `true` when bare. */
  bools: Map<string, string | true>;
}

/**
 * Rewrites a command line for commander. Everything after `--` and every
 * flag `kindOf` does not know is left alone.
 *
 * @example
 * ```ts
 * import { rewritePflagArgs } from "./pflag_booleans.ts";
 * const kinds = { "--redirect-dns": "boolean", "--vnet": "value" } as const;
 * const r = rewritePflagArgs(
 *   ["--redirect-dns=false", "--vnet=docker0:172.17.0.0/16", "x"],
 *   (flag) => kinds[flag as keyof typeof kinds],
 * );
 * if (r.args.join(" ") !== "--redirect-dns --vnet=docker0:172.17.0.0/16 x") throw new Error();
 * if (r.bools.get("--redirect-dns") !== "false") throw new Error();
 * ```
 */
export function rewritePflagArgs(
  args: readonly string[],
  kindOf: (flag: string) => PflagKind | undefined,
): PflagParse {
  const order: string[] = [];
  const bools = new Map<string, string | true>();
  const end = args.indexOf("--");
  const rewritten = args.map((arg, i) => {
    if ((end >= 0 && i >= end) || !arg.startsWith("--")) return arg;
    const eq = arg.indexOf("=");
    const flag = eq < 0 ? arg : arg.slice(0, eq);
    const kind = kindOf(flag);
    if (kind === undefined) return arg;
    if (kind === "bare") return flag;
    order.push(flag);
    if (kind === "value") return arg;
    bools.set(flag, eq < 0 ? true : arg.slice(eq + 1));
    return flag;
  });
  return { args: rewritten, order, bools };
}

/**
 * Makes every parse of `cmd` go through {@link rewritePflagArgs} first and
 * hands what it saw to `onParse` (called again on each parse, so a reused
 * command starts afresh).
 *
 * @example
 * ```ts
 * import { Command } from "commander";
 * import { usePflagBooleans } from "./pflag_booleans.ts";
 * const cmd = new Command("install").option("--redirect-dns").exitOverride();
 * let raw: string | true | undefined;
 * usePflagBooleans(cmd, (f) => f === "--redirect-dns" ? "boolean" : undefined, (p) => {
 *   raw = p.bools.get("--redirect-dns");
 * });
 * cmd.parse(["--redirect-dns=false"], { from: "user" });
 * if (raw !== "false") throw new Error();
 * ```
 */
export function usePflagBooleans(
  cmd: Command,
  kindOf: (flag: string) => PflagKind | undefined,
  onParse: (parse: PflagParse) => void,
): void {
  const parseOptions = cmd.parseOptions.bind(cmd);
  cmd.parseOptions = (args: string[]) => {
    const parse = rewritePflagArgs(args, kindOf);
    onParse(parse);
    return parseOptions(parse.args);
  };
}
