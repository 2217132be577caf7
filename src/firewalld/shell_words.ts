/**
 * firewalld stores rule arguments as one string and quotes them its own way.
 * These helpers reproduce the three conventions involved, so that what we
 * write is read back as the same argv and what we validate is what firewalld
 * will feed to iptables-restore.
 *
 * - direct.xml text: firewalld joins with Python's `shlex.quote` and splits
 *   with `shlex.split` (firewall/functions.py `joinArgs`/`splitArgs`).
 * - iptables-restore input: firewalld wraps every argument that holds
 *   whitespace in double quotes (firewall/core/ipXtables.py `set_rules`),
 *   which is why a comment with `"` breaks it (firewalld F6, docs/firewalld.md#f6).
 *
 * @module
 */

/** A string that `shlex.split` would refuse (an unclosed quote, a trailing backslash). */
export class ShellWordsError extends Error {
  constructor(readonly text: string, reason: string) {
    super(`cannot split ${JSON.stringify(text)}: ${reason}`);
    this.name = "ShellWordsError";
  }
}

// Python's shlex.quote leaves a word bare when it only holds these (ASCII \w and @%+=:,./-).
const SAFE_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;
// Python's string.whitespace.
const WHITESPACE = /[ \t\n\r\v\f]/;

/**
 * Joins arguments the way firewalld writes them into direct.xml (`shlex.quote`).
 *
 * @example
 * ```ts
 * import { joinArgs } from "./shell_words.ts";
 * const s = joinArgs(["-m", "comment", "--comment", "kuma/mesh/transparent/proxy/a b"]);
 * if (s !== "-m comment --comment 'kuma/mesh/transparent/proxy/a b'") throw new Error(s);
 * ```
 */
export function joinArgs(args: readonly string[]): string {
  return args.map(quoteArg).join(" ");
}

function quoteArg(arg: string): string {
  if (arg === "") return "''";
  if (SAFE_WORD.test(arg)) return arg;
  return `'${arg.replaceAll("'", `'"'"'`)}'`;
}

/**
 * Splits a direct.xml rule body into arguments as firewalld does (`shlex.split`, POSIX mode).
 *
 * @example
 * ```ts
 * import { splitArgs } from "./shell_words.ts";
 * const a = splitArgs(`-j LOG --log-prefix "a \\"b" 'c d'`);
 * if (a.join("|") !== `-j|LOG|--log-prefix|a "b|c d`) throw new Error(a.join("|"));
 * ```
 */
export function splitArgs(text: string): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (WHITESPACE.test(c)) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
      i++;
    } else if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) throw new ShellWordsError(text, "no closing quotation");
      word += text.slice(i + 1, end);
      inWord = true;
      i = end + 1;
    } else if (c === '"') {
      // Inside double quotes POSIX shlex only treats \" and \\ as escapes.
      i++;
      for (;;) {
        if (i >= text.length) throw new ShellWordsError(text, "no closing quotation");
        const d = text[i];
        if (d === '"') break;
        if (d === "\\" && (text[i + 1] === '"' || text[i + 1] === "\\")) {
          word += text[i + 1];
          i += 2;
        } else {
          word += d;
          i++;
        }
      }
      inWord = true;
      i++;
    } else if (c === "\\") {
      if (i + 1 >= text.length) throw new ShellWordsError(text, "no escaped character");
      word += text[i + 1];
      inWord = true;
      i += 2;
    } else {
      word += c;
      inWord = true;
      i++;
    }
  }
  if (inWord) words.push(word);
  return words;
}

/**
 * One iptables-restore line as firewalld builds it: arguments holding
 * whitespace are wrapped in double quotes, nothing else is escaped.
 *
 * @example
 * ```ts
 * import { restoreLine } from "./shell_words.ts";
 * const l = restoreLine(["-A", "OUTPUT", "--comment", "a b"]);
 * if (l !== `-A OUTPUT --comment "a b"`) throw new Error(l);
 * ```
 */
export function restoreLine(args: readonly string[]): string {
  return args
    .map((a) => WHITESPACE.test(a) && !(a.startsWith('"') && a.endsWith('"')) ? `"${a}"` : a)
    .join(" ");
}
