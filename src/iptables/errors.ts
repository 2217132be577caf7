/**
 * Typed errors of the iptables layer. An {@linkcode ExecError} keeps the
 * evidence of a failed command (command line, exit code, iptables' own
 * stderr) and translates stderr into a `code` that callers can act on
 * without matching wording themselves.
 */

/** What went wrong, as far as iptables' stderr tells. */
export type ExecErrorCode =
  | "lock_held"
  | "bad_rule"
  | "missing_module"
  | "permission"
  | "not_found"
  | "unknown";

/** Patterns in the order they are tried: the first match wins. */
const CODE_PATTERNS: ReadonlyArray<readonly [ExecErrorCode, RegExp]> = [
  ["permission", /Permission denied \(you must be root\)|you must be root/i],
  ["lock_held", /Another app is currently holding the xtables lock/i],
  [
    "missing_module",
    /Couldn't load (?:match|target)|No chain\/target\/match by that name|Table does not exist/i,
  ],
  ["not_found", /No such file or directory|command not found|exec of .* failed/i],
  [
    "bad_rule",
    /line \d+ failed|Error occurred at line|Bad rule|Bad argument|unknown option|does not exist|invalid|Device or resource busy/i,
  ],
];

/**
 * Classifies iptables stderr. "Couldn't load target `X':No such file or
 * directory" is a missing module, not a missing executable, hence the order.
 */
export function classifyStderr(stderr: string): ExecErrorCode {
  for (const [code, pattern] of CODE_PATTERNS) {
    if (pattern.test(stderr)) return code;
  }
  return "unknown";
}

/**
 * Finds the 1-based input line that iptables-restore blames. Legacy says
 * "iptables-restore: line 7 failed"; both backends also say
 * "Error occurred at line: 7".
 */
export function failedLine(stderr: string): number | undefined {
  const m = /\bline:? (\d+)/.exec(stderr);
  return m ? Number(m[1]) : undefined;
}

/** Fields of an {@linkcode ExecError}. */
export interface ExecErrorInit {
  command: string[];
  /** The command's exit code; -1 when it could not start. */
  exitCode: number;
  stderr: string;
  /** The restore input, used to quote the failing line. */
  input?: string;
  /** Overrides the code derived from stderr (e.g. `not_found` when the command could not start). */
  code?: ExecErrorCode;
}

/**
 * A command that exited non-zero or could not start.
 *
 * @example
 * ```ts
 * import { ExecError } from "./errors.ts";
 * const e = new ExecError({
 *   command: ["iptables-restore", "--noflush"],
 *   exitCode: 1,
 *   stderr: "iptables-restore: line 2 failed\n",
 *   input: "*nat\n-A OUTPUT -j NOPE\nCOMMIT\n",
 * });
 * if (e.code !== "bad_rule" || e.rule !== "-A OUTPUT -j NOPE") throw new Error();
 * ```
 */
export class ExecError extends Error {
  readonly command: string[];
  /** The command's exit code; -1 when it could not start. */
  readonly exitCode: number;
  readonly stderr: string;
  readonly code: ExecErrorCode;
  /** 1-based line of the restore input named by stderr. */
  readonly line?: number;
  /** The text of that line. */
  readonly rule?: string;

  constructor(init: ExecErrorInit) {
    const code = init.code ?? classifyStderr(init.stderr);
    const line = init.input === undefined ? undefined : failedLine(init.stderr);
    const rule = line === undefined ? undefined : init.input?.split("\n")[line - 1];
    const detail = init.stderr.trim().split("\n").filter((l) =>
      l.trim() !== "" && !/^Try `/.test(l)
    )
      .join("; ");
    super(
      `command "${init.command.join(" ")}" failed (${code}, exit ${init.exitCode})` +
        (rule === undefined ? "" : ` at line ${line}: ${rule}`) +
        (detail ? `: ${detail}` : ""),
    );
    this.name = "ExecError";
    this.command = init.command;
    this.exitCode = init.exitCode;
    this.stderr = init.stderr;
    this.code = code;
    this.line = line;
    this.rule = rule;
  }
}

/** Codes of {@linkcode ExecutablesError}. */
export type ExecutablesErrorCode = "not_found" | "mixed_types" | "minimum_requirements";

/**
 * No usable iptables executables, or a backend that lacks what the rules need.
 *
 * @example
 * ```ts
 * import { ExecutablesError } from "./errors.ts";
 * const e = new ExecutablesError("mixed_types", "executables are of mixed types: nft and legacy");
 * if (e.code !== "mixed_types") throw new Error();
 * ```
 */
export class ExecutablesError extends Error {
  constructor(
    readonly code: ExecutablesErrorCode,
    message: string,
    readonly details: string[] = [],
  ) {
    super(message);
    this.name = "ExecutablesError";
  }
}

/** Codes of {@linkcode UnsafeStateError}. */
export type UnsafeStateCode = "missing_comments" | "foreign_jump";

/**
 * The live rules hold KUMA_MESH chains we cannot remove safely: they carry
 * none of our comments (kumactl < 2.9 or `comments.disabled`), or a rule we
 * do not own jumps to them.
 *
 * @example
 * ```ts
 * import { UnsafeStateError } from "./errors.ts";
 * const e = new UnsafeStateError("foreign_jump", "nat", "-A OUTPUT -j KUMA_MESH_OUTBOUND", "...");
 * if (e.table !== "nat") throw new Error();
 * ```
 */
export class UnsafeStateError extends Error {
  constructor(
    readonly code: UnsafeStateCode,
    readonly table: string,
    /** The offending rule (`foreign_jump`) or chain (`missing_comments`). */
    readonly subject: string,
    message: string,
  ) {
    super(message);
    this.name = "UnsafeStateError";
  }
}
