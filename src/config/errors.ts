/**
 * The one error type of config resolution. It is data first: callers and
 * tests look at `code`, `path` and `source`; the message is for people.
 *
 * @module
 */

/** Why a config could not be resolved. */
export type ConfigErrorCode =
  | "invalid_value"
  | "unknown_key"
  | "unsupported"
  | "parse_error"
  | "unreadable_source"
  | "conflict";

/** The fields of one config problem. */
export interface ConfigProblem {
  code: ConfigErrorCode;
  /** Dotted setting path ("redirect.dns.port"); for an unknown key, the key as written. */
  path: string;
  /** `default`, `file:/etc/tp.yaml:12:3`, `stdin:3:5`, `env:NAME` or `flag:--name`. */
  source: string;
  /** The offending value as given, if there is one. */
  value?: unknown;
  /** What would have been accepted. */
  expected: string;
  /** Predicate for the message: "is not a port". */
  reason: string;
}

/**
 * A config problem, or several: `errors` holds every problem found (this one
 * first), so a user can fix them all in one go.
 *
 * @example
 * ```ts
 * import { ConfigError } from "./errors.ts";
 * const e = new ConfigError({
 *   code: "invalid_value",
 *   path: "redirect.dns.port",
 *   source: "flag:--redirect-dns-port",
 *   value: "70000",
 *   reason: "is not a port",
 *   expected: "1-65535",
 * });
 * if (!e.message.startsWith("redirect.dns.port: 70000 from flag --redirect-dns-port")) {
 *   throw new Error(e.message);
 * }
 * ```
 */
export class ConfigError extends Error {
  readonly code: ConfigErrorCode;
  readonly path: string;
  readonly source: string;
  readonly value: unknown;
  readonly expected: string;
  readonly reason: string;
  /** All problems, this one first. */
  readonly errors: ConfigError[];

  constructor(problem: ConfigProblem, more: ConfigError[] = []) {
    const shown = more.slice(0, MAX_SHOWN_PROBLEMS - 1).map((e) => e.message);
    const hidden = more.length - shown.length;
    super(
      [
        describeProblem(problem),
        ...shown,
        ...(hidden > 0 ? [`(and ${hidden} more problem${hidden === 1 ? "" : "s"})`] : []),
      ].join("\n"),
    );
    this.name = "ConfigError";
    this.code = problem.code;
    this.path = problem.path;
    this.source = problem.source;
    this.value = problem.value;
    this.expected = problem.expected;
    this.reason = problem.reason;
    this.errors = [this, ...more];
  }

  /**
   * Combines several errors into one whose `errors` lists them all.
   * Throws nothing itself; returns undefined for an empty list.
   */
  static combine(errors: ConfigError[]): ConfigError | undefined {
    const all = errors.flatMap((e) => e.errors);
    if (all.length === 0) return undefined;
    if (all.length === 1) return all[0];
    return new ConfigError(all[0], all.slice(1));
  }
}

/** How many problems a message lists; `errors` keeps them all. */
export const MAX_SHOWN_PROBLEMS = 20;

/** "flag:--x" -> "flag --x"; "env:X" -> "env X"; "file:/p:1:2" -> "/p:1:2". */
export function describeSource(source: string): string {
  // A file name or an env var name may hold any character but NUL.
  if (source.startsWith("file:")) return escapeUnprintable(source.slice("file:".length));
  const colon = source.indexOf(":");
  if (colon < 0 || source.startsWith("stdin:")) return source;
  return escapeUnprintable(`${source.slice(0, colon)} ${source.slice(colon + 1)}`);
}

/**
 * What a terminal would not show as text: C0 controls, DEL, C1 controls, the
 * line and paragraph separators and the bidirectional overrides. A value
 * that holds one (a newline in `kumaDPUser`, a NUL from a file) must not
 * split a message, vanish or move the text around it.
 */
// deno-lint-ignore no-control-regex -- matching control characters is the point.
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
// The same, but for a line break and a tab.
const UNPRINTABLE_IN_TEXT =
  // deno-lint-ignore no-control-regex -- matching control characters is the point.
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const HAS_UNPRINTABLE = new RegExp(UNPRINTABLE.source);
const NAMED_ESCAPES: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/**
 * `text` with each unprintable character written as an escape (`\n`,
 * `\u0000`), as JSON writes it. `keepLines` leaves line breaks and tabs:
 * for a whole message of several lines, whose values are escaped already.
 *
 * @example
 * ```ts
 * import { escapeUnprintable } from "./errors.ts";
 * if (escapeUnprintable("ku\nma\0") !== "ku\\nma\\u0000") throw new Error();
 * if (escapeUnprintable("a\nb\u001b[31m", { keepLines: true }) !== "a\nb\\u001b[31m") throw new Error();
 * ```
 */
export function escapeUnprintable(text: string, { keepLines = false } = {}): string {
  return text.replace(
    keepLines ? UNPRINTABLE_IN_TEXT : UNPRINTABLE,
    (c) => NAMED_ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** A value in single quotes, its unprintable characters escaped: `kumaDPUser 'ku\nma'`. */
export function quoted(value: string): string {
  return `'${escapeUnprintable(value)}'`;
}

/** Quotes a value only when it would otherwise be unreadable in a sentence. */
export function showValue(value: unknown): string {
  if (value === undefined) return "nothing";
  const text =
    typeof value === "string" && /^[^\s"'`]+$/.test(value) && !HAS_UNPRINTABLE.test(value)
      ? value
      : escapeUnprintable(JSON.stringify(value) ?? String(value));
  // A value can be as long as its source (1 MiB); a message stays readable.
  return text.length > MAX_SHOWN_VALUE
    ? `${text.slice(0, MAX_SHOWN_VALUE)}... (${text.length} characters)`
    : text;
}

const MAX_SHOWN_VALUE = 120;

function describeProblem(p: ConfigProblem): string {
  // A problem with a whole source (unparsable, unreadable) has no setting path.
  if (!p.path) return `${describeSource(p.source)}: ${escapeUnprintable(p.reason)}`;
  const where = p.source ? ` from ${describeSource(p.source)}` : "";
  const what = p.value !== undefined
    ? showValue(p.value)
    : p.code === "unknown_key"
    ? "key"
    : "value";
  const expected = p.expected ? ` (expected ${p.expected})` : "";
  // An unknown key is as it was typed.
  return `${escapeUnprintable(p.path)}: ${what}${where} ${p.reason}${expected}`;
}
