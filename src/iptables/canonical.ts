/**
 * One canonical string per rule, so that a rule as we write it (short or
 * verbose form, options in kumactl's order) and the same rule as
 * iptables-save prints it compare equal, and rules that differ in any value
 * do not. `status` uses it to tell drift from mere spelling.
 *
 * The canonical form looks like iptables-save output: `-A CHAIN`, the basic
 * options in save order, then the matches sorted, then the target. Matches
 * are sorted because their order does not change which packets a rule
 * matches (they are ANDed; none of ours has side effects), while iptables
 * moves implicit ones (`-p udp --dport 53` becomes `-m udp --dport 53` after
 * the other matches).
 *
 * @module
 */
import type { SaveDump } from "./save_parser.ts";
import { tokenize } from "./save_parser.ts";
import { hasOurCommentWord, isOurChain } from "../rules/ownership.ts";
import {
  BASIC,
  BASIC_ORDER,
  canonicalValue,
  FLAG_OPTIONS,
  MULTIPORT_OPTIONS,
  PROTO_OPTIONS,
} from "./_canonical_values.ts";

interface Option {
  name: string;
  values: string[];
  negate: boolean;
}

interface Group {
  /** Match module, target name, or "" for the basic options. */
  name: string;
  options: Option[];
}

/** Modules whose own options include the port options. */
const PORT_MODULES = new Set(["tcp", "udp", "multiport", "sctp", "dccp"]);

/** Matches an option value must not look like, so that a flag is not given the next option as value. */
const OPTION_LIKE = /^-[-a-zA-Z]/;

function quote(word: string): string {
  return /^[^\s"'\\]+$/.test(word) ? word : `"${word.replace(/(["\\])/g, "\\$1")}"`;
}

function renderOption(o: Option): string {
  return [...(o.negate ? ["!"] : []), o.name, ...o.values.map(quote)].join(" ");
}

function renderGroup(g: Group, head: string): string {
  const options = g.options.map(renderOption).sort();
  return [head, ...options].join(" ");
}

/** Splits spec tokens into basic options, match groups and the target. */
function parseSpec(tokens: string[]) {
  const basic: Option[] = [];
  const matches: Group[] = [];
  /** Port options given outside a port module: they belong to the `-p` protocol's match. */
  const implicit: Option[] = [];
  let target: Group | undefined;
  let targetFlag = "-j";
  let current: Group | undefined;
  let negate = false;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t === "!") {
      negate = true;
      continue;
    }
    if (t === "-m" || t === "--match") {
      current = { name: tokens[++i] ?? "", options: [] };
      matches.push(current);
      continue;
    }
    if (t === "-j" || t === "--jump" || t === "-g" || t === "--goto") {
      targetFlag = t === "-g" || t === "--goto" ? "-g" : "-j";
      current = target = { name: tokens[++i] ?? "", options: [] };
      continue;
    }
    const name = BASIC[t] ?? t;
    const values: string[] = [];
    const arity = FLAG_OPTIONS.has(name) ? 0 : name === "--tcp-flags" ? 2 : 1;
    for (let n = 0; n < arity && i + 1 < tokens.length; n++) {
      // The old syntax puts the negation after the option: `--dport ! 53`.
      if (tokens[i + 1] === "!" && i + 2 < tokens.length) {
        negate = true;
        i++;
      }
      if (OPTION_LIKE.test(tokens[i + 1]) && !/^-\d/.test(tokens[i + 1])) break;
      values.push(tokens[++i]);
    }
    const option = { name, values, negate };
    negate = false;
    if (BASIC[t]) basic.push(option);
    else if (current && current.name === "multiport" && MULTIPORT_OPTIONS[name]) {
      current.options.push({ ...option, name: MULTIPORT_OPTIONS[name] });
    } else if (PROTO_OPTIONS[name] && !(current && PORT_MODULES.has(current.name))) {
      implicit.push({ ...option, name: PROTO_OPTIONS[name] });
    } else if (current) current.options.push(option);
    else basic.push(option); // unknown and outside any module: keep it, so it still counts
  }
  return { basic, matches, implicit, target, targetFlag };
}

/**
 * The canonical form of one rule of `chain`, from its spec tokens (the words
 * after `-A CHAIN` or `-I CHAIN N`, as {@linkcode tokenize} splits them).
 *
 * @example
 * ```ts
 * import { canonicalRule } from "./canonical.ts";
 * import { tokenize } from "./save_parser.ts";
 * const ours = canonicalRule("OUTPUT", tokenize('-m comment --comment "kuma/x" -p udp -d 10.0.0.2 --dport 53 -j REDIRECT --to-ports 15053'));
 * const saved = canonicalRule("OUTPUT", tokenize('-d 10.0.0.2/32 -p udp -m comment --comment "kuma/x" -m udp --dport 53 -j REDIRECT --to-ports 15053'));
 * if (ours !== saved) throw new Error(`${ours} != ${saved}`);
 * ```
 */
export function canonicalRule(chain: string, specTokens: string[]): string {
  const { basic, matches, implicit, target, targetFlag } = parseSpec(specTokens);
  const lower = (name: string) => name.toLowerCase();
  for (const o of basic) o.values = o.values.map((v) => canonicalValue("", o.name, v));
  // Options that match every packet, which iptables-save leaves out: an
  // address with a /0 mask and the bare `+` interface (both backends store no
  // match for them; legacy's print_iface skips a zero mask).
  const matchesAll = (o: Option) =>
    !o.negate && ((["-i", "-o"].includes(o.name) && o.values[0] === "+") ||
      (["-s", "-d"].includes(o.name) && /\/0$/.test(o.values[0] ?? "")));
  basic.splice(0, basic.length, ...basic.filter((o) => !matchesAll(o)));
  const proto = basic.find((o) => o.name === "-p" && !o.negate)?.values[0] ?? "";
  const groups = new Map<string, Group>();
  for (const m of matches) {
    const name = lower(m.name);
    const merged = groups.get(name) ?? { name, options: [] };
    merged.options.push(...m.options);
    // Two `-m comment` or `-m owner` are legal; merging keeps them all.
    groups.set(name, merged);
  }
  if (implicit.length > 0) {
    const g = groups.get(proto) ?? { name: proto, options: [] };
    g.options.push(...implicit);
    groups.set(proto, g);
  }
  const parts = [`-A ${chain}`];
  for (const name of BASIC_ORDER) {
    for (const o of basic.filter((b) => b.name === name)) parts.push(renderOption(o));
  }
  for (const o of basic.filter((b) => !BASIC_ORDER.includes(b.name))) parts.push(renderOption(o));
  const rendered: string[] = [];
  for (const g of groups.values()) {
    // `-m tcp` without options matches every TCP packet `-p tcp` lets through.
    if ((g.name === "tcp" || g.name === "udp") && g.options.length === 0) continue;
    for (const o of g.options) o.values = o.values.map((v) => canonicalValue(g.name, o.name, v));
    rendered.push(renderGroup(g, `-m ${g.name}`));
  }
  parts.push(...rendered.sort());
  if (target) {
    for (const o of target.options) {
      o.values = o.values.map((v) => canonicalValue(target.name, o.name, v));
    }
    // LOG's default level is not saved (libxt_LOG LOG_save).
    if (target.name === "LOG") {
      target.options = target.options.filter((o) =>
        !(o.name === "--log-level" && o.values[0] === "4")
      );
    }
    parts.push(renderGroup(target, `${targetFlag} ${target.name}`));
  }
  return parts.join(" ");
}

/** Built-in chains first, in hook order; then the others by name. */
function chainOrder(a: string, b: string): number {
  const builtins = ["PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"];
  const rank = (c: string) => builtins.indexOf(c) + 1 || builtins.length + 1;
  return rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0);
}

/** Options for the canonical rule lists. */
export interface CanonicalOptions {
  /**
   * Keep only what is recognisably ours: chains named KUMA_MESH_*, and rules
   * in them or tagged with our comment. Rules without comments in built-in
   * chains cannot be told apart from foreign ones, so both sides of a
   * comparison must use the same setting.
   */
  oursOnly?: boolean;
}

/** Builds the per-table lists: `-N CHAIN` lines sorted, then each chain's rules in order. */
function toLists(
  tables: Map<string, { chains: Set<string>; rules: Map<string, string[]> }>,
): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [name, t] of tables) {
    const lines = [...t.chains].sort().map((c) => `-N ${c}`);
    for (const chain of [...t.rules.keys()].sort(chainOrder)) lines.push(...t.rules.get(chain)!);
    if (lines.length > 0) out.set(name, lines);
  }
  return out;
}

/**
 * Our chains and rules per table, as iptables would hold them after loading
 * `restoreText` (short or verbose form) into empty chains: per chain, the
 * `-I` rules at their positions, the `-A` rules after them. Each table lists
 * its `-N CHAIN` lines first (sorted), then rules by chain (built-in chains
 * in hook order, then the others by name). Tables with nothing are left out.
 *
 * @example
 * ```ts
 * import { canonicalRules } from "./canonical.ts";
 * const text = "*nat\n-N KUMA_MESH_X\n-A OUTPUT -j KUMA_MESH_X\n-I OUTPUT 1 -p tcp -j RETURN\nCOMMIT\n";
 * const nat = canonicalRules(text).get("nat")!;
 * if (nat.join("|") !== "-N KUMA_MESH_X|-A OUTPUT -p tcp -j RETURN|-A OUTPUT -j KUMA_MESH_X") throw new Error(nat.join("|"));
 * ```
 */
export function canonicalRules(
  restoreText: string,
  options: CanonicalOptions = {},
): Map<string, string[]> {
  const tables = new Map<string, { chains: Set<string>; rules: Map<string, string[]> }>();
  let table: { chains: Set<string>; rules: Map<string, string[]> } | undefined;
  for (const raw of restoreText.split("\n")) {
    const line = raw.trim().replace(/^\[\d+:\d+\]\s+/, "");
    if (line === "" || line.startsWith("#") || line === "COMMIT") continue;
    if (line.startsWith("*")) {
      table = { chains: new Set(), rules: new Map() };
      tables.set(line.slice(1).trim(), table);
      continue;
    }
    if (!table) throw new SyntaxError(`rule outside a table: "${line}"`);
    if (line.startsWith(":")) {
      // iptables-save style declaration; `-` marks a user-defined chain.
      const [name, policy] = line.slice(1).split(/\s+/);
      if (policy === "-" && (!options.oursOnly || isOurChain(name))) table.chains.add(name);
      continue;
    }
    const words = tokenize(line);
    const [command, chain = ""] = words;
    if (command === "-N" || command === "--new-chain") {
      if (!options.oursOnly || isOurChain(chain)) table.chains.add(chain);
      continue;
    }
    const insert = command === "-I" || command === "--insert";
    if (!insert && command !== "-A" && command !== "--append") {
      throw new SyntaxError(`unexpected restore line: "${line}"`);
    }
    const hasPosition = insert && /^\d+$/.test(words[2] ?? "");
    const spec = words.slice(hasPosition ? 3 : 2);
    if (options.oursOnly && !isOurChain(chain) && !hasOurCommentWord(spec)) continue;
    const rules = table.rules.get(chain) ?? [];
    const rule = canonicalRule(chain, spec);
    if (insert) {
      const at = hasPosition ? Number(words[2]) - 1 : 0;
      rules.splice(Math.min(at, rules.length), 0, rule);
    } else rules.push(rule);
    table.rules.set(chain, rules);
  }
  return toLists(tables);
}

/**
 * The same lists for a parsed iptables-save dump: by default only our chains
 * and rules (as {@linkcode parseSave} marks them), or everything with
 * `oursOnly: false`.
 *
 * @example
 * ```ts
 * import { canonicalSavedRules } from "./canonical.ts";
 * import { parseSave } from "./save_parser.ts";
 * const dump = parseSave('*nat\n:OUTPUT ACCEPT\n-A OUTPUT -j ACCEPT\n-A OUTPUT -m comment --comment "kuma/mesh/transparent/proxy/x" -j RETURN\nCOMMIT\n');
 * const nat = canonicalSavedRules(dump).get("nat")!;
 * if (nat.join() !== '-A OUTPUT -m comment --comment kuma/mesh/transparent/proxy/x -j RETURN') throw new Error(nat.join());
 * ```
 */
export function canonicalSavedRules(
  dump: SaveDump,
  options: CanonicalOptions = { oursOnly: true },
): Map<string, string[]> {
  const tables = new Map<string, { chains: Set<string>; rules: Map<string, string[]> }>();
  for (const t of dump.tables) {
    const entry = { chains: new Set<string>(), rules: new Map<string, string[]>() };
    for (const c of t.chains) {
      if (!c.builtin && (!options.oursOnly || c.ours)) entry.chains.add(c.name);
      const rules = c.rules.filter((r) => !options.oursOnly || r.ours)
        .map((r) => canonicalRule(c.name, tokenize(r.spec)));
      if (rules.length > 0) entry.rules.set(c.name, rules);
    }
    tables.set(t.name, entry);
  }
  return toLists(tables);
}
