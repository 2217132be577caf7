/**
 * Parses `iptables-save` output into tables, chains and rules, keeping the
 * exact rule text so that cleanup can delete a rule by the very spec that
 * iptables printed, and marks what belongs to us.
 */
import { COMMENT_PREFIX } from "../rules/model.ts";
import { hasOurCommentWord, isForeignJump, isOurChain, jumpTargetOf } from "../rules/ownership.ts";
import { UnsafeStateError } from "./errors.ts";

export { isOurChain };

/** One `-A CHAIN spec` line. */
export interface SavedRule {
  chain: string;
  /** Exact text after `-A CHAIN `, as iptables-save printed it. */
  spec: string;
  /** 1-based position in its chain. */
  index: number;
  /** Ours: in a KUMA_MESH_* chain, or tagged with our comment (src/rules/ownership.ts). */
  ours: boolean;
  /** Tagged with our comment (`kuma/mesh/transparent/proxy/...`). */
  tagged: boolean;
}

export interface SavedChain {
  name: string;
  /** `ACCEPT`/`DROP` for built-in chains, `-` for user-defined ones. */
  policy: string;
  builtin: boolean;
  /** A KUMA_MESH_* chain. */
  ours: boolean;
  rules: SavedRule[];
}

export interface SavedTable {
  name: string;
  /** In declaration order. */
  chains: SavedChain[];
}

export interface SaveDump {
  /** In dump order. */
  tables: SavedTable[];
}

/**
 * Splits a rule spec into words the way iptables-restore does: double quotes
 * group, and a backslash escapes the next character (iptables-save writes
 * `envoy\'s`).
 */
export function tokenize(spec: string): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let quoted = false;
  for (let i = 0; i < spec.length; i++) {
    const c = spec[i];
    if (c === "\\" && i + 1 < spec.length) {
      word += spec[++i];
      inWord = true;
    } else if (c === '"') {
      quoted = !quoted;
      inWord = true;
    } else if (!quoted && (c === " " || c === "\t")) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}

/** Whether any `--comment` of the spec is ours (src/rules/ownership.ts). */
export function hasOurComment(spec: string): boolean {
  return spec.includes(COMMENT_PREFIX) && hasOurCommentWord(tokenize(spec));
}

/** The chain a rule jumps or goes to (`-j X`, `--jump X`, `-g X`, `--goto X`). */
export function jumpTarget(spec: string): string | undefined {
  return jumpTargetOf(tokenize(spec));
}

const COUNTERS = /^\[\d+:\d+\]\s+/;

/**
 * Parses iptables-save output (with or without `-c` counters). Comment and
 * warning lines (`# ...`) are skipped.
 *
 * @example
 * ```ts
 * import { parseSave } from "./save_parser.ts";
 * const dump = parseSave("*nat\n:OUTPUT ACCEPT [0:0]\n:KUMA_MESH_OUTBOUND - [0:0]\n-A OUTPUT -j KUMA_MESH_OUTBOUND\nCOMMIT\n");
 * if (!dump.tables[0].chains[1].ours) throw new Error();
 * ```
 */
export function parseSave(text: string): SaveDump {
  const tables: SavedTable[] = [];
  let table: SavedTable | undefined;
  const chainOf = (name: string): SavedChain => {
    if (!table) throw new SyntaxError(`rule outside a table: "${name}"`);
    let chain = table.chains.find((c) => c.name === name);
    if (!chain) {
      // A rule for an undeclared chain cannot come from iptables-save, but
      // keeping it beats dropping a rule we may have to delete.
      chain = { name, policy: "-", builtin: false, ours: isOurChain(name), rules: [] };
      table.chains.push(chain);
    }
    return chain;
  };
  for (const raw of text.split("\n")) {
    const line = raw.trimEnd();
    if (line === "" || line.startsWith("#")) continue;
    if (line.startsWith("*")) {
      table = { name: line.slice(1).trim(), chains: [] };
      tables.push(table);
    } else if (line === "COMMIT") {
      table = undefined;
    } else if (line.startsWith(":")) {
      const [name, policy = "-"] = line.slice(1).split(/\s+/);
      const chain = chainOf(name);
      chain.policy = policy;
      chain.builtin = policy !== "-";
    } else {
      const m = /^-A (\S+)(?: (.*))?$/.exec(line.replace(COUNTERS, ""));
      if (!m) throw new SyntaxError(`unexpected iptables-save line: "${line}"`);
      const chain = chainOf(m[1]);
      const spec = m[2] ?? "";
      const tagged = hasOurComment(spec);
      chain.rules.push({
        chain: chain.name,
        spec,
        index: chain.rules.length + 1,
        ours: chain.ours || tagged,
        tagged,
      });
    }
  }
  return { tables };
}

/** Whether the dump holds any of our rules or chains. */
export function hasOurs(dump: SaveDump): boolean {
  return dump.tables.some((t) => t.chains.some((c) => c.ours || c.rules.some((r) => r.ours)));
}

/**
 * Every rule that is not ours (`-A CHAIN spec`, as iptables-save printed it)
 * and every user chain that is not ours (`rule` undefined), in dump order:
 * what a flush of the whole table (`-F`, `-X`) would take from others.
 * Built-in chains' policies are not listed: `-F`/`-X`/`-Z` keep them.
 *
 * @example
 * ```ts
 * import { notOurs, parseSave } from "./save_parser.ts";
 * const dump = parseSave("*nat\n:PREROUTING ACCEPT [0:0]\n:DOCKERISH - [0:0]\nCOMMIT\n");
 * const found = notOurs(dump);
 * if (found.length !== 1 || found[0].chain !== "DOCKERISH") throw new Error();
 * ```
 */
export function notOurs(dump: SaveDump): { table: string; chain: string; rule?: string }[] {
  const out: { table: string; chain: string; rule?: string }[] = [];
  for (const t of dump.tables) {
    for (const c of t.chains) {
      if (c.ours) continue;
      if (!c.builtin) out.push({ table: t.name, chain: c.name });
      for (const r of c.rules) {
        if (!r.ours) out.push({ table: t.name, chain: c.name, rule: `-A ${c.name} ${r.spec}` });
      }
    }
  }
  return out;
}

/**
 * Whether the dump holds anything besides empty built-in chains with ACCEPT
 * policy: what kumactl calls "existing rules" when choosing a backend.
 */
export function hasRules(dump: SaveDump): boolean {
  return dump.tables.some((t) =>
    t.chains.some((c) => !c.builtin || c.policy !== "ACCEPT" || c.rules.length > 0)
  );
}

/** Whether a table of the dump has the named chain. */
export function hasChain(dump: SaveDump, table: string, chain: string): boolean {
  return dump.tables.some((t) => t.name === table && t.chains.some((c) => c.name === chain));
}

/**
 * Refuses a dump we cannot clean without touching rules that are not ours
 * (kumactl K4 step 2, docs/kumactl.md#k4). Throws {@linkcode UnsafeStateError}.
 */
export function assertSafeToClean(dump: SaveDump): void {
  const tagged = dump.tables.some((t) => t.chains.some((c) => c.rules.some((r) => r.tagged)));
  for (const t of tagged ? [] : dump.tables) {
    const chain = t.chains.find((c) => c.ours);
    if (chain) {
      throw new UnsafeStateError(
        "missing_comments",
        t.name,
        chain.name,
        `Transparent proxy chains exist (${chain.name} in table "${t.name}") but none of their rules ` +
          `carry the "${COMMENT_PREFIX}" comment (installed by kumactl before 2.9 or with comments ` +
          `disabled), so our rules cannot be told apart safely: remove the KUMA_MESH_* chains and the ` +
          `rules that jump to them by hand, then run this again`,
      );
    }
  }

  for (const t of dump.tables) {
    for (const c of t.chains) {
      if (c.ours) continue;
      for (const r of c.rules) {
        const words = tokenize(r.spec);
        if (isForeignJump(c.name, words)) {
          const target = jumpTargetOf(words);
          const rule = `-A ${c.name} ${r.spec}`;
          throw new UnsafeStateError(
            "foreign_jump",
            t.name,
            rule,
            `A rule we did not create jumps to our chain ${target} in table "${t.name}": ${rule}. ` +
              `Remove or retag that rule yourself (iptables -t ${t.name} -D ${c.name} ${r.spec}), then run this again`,
          );
        }
      }
    }
  }
}

/**
 * Our chains and rules as one line each, in dump order: `-t nat -N CHAIN`,
 * `-t nat -A CHAIN spec`. With `positions`, our rules in chains we do not own
 * are written `-t nat -I CHAIN <index> spec`, so that two dumps compare equal
 * only if our rules also sit at the same places among foreign ones.
 *
 * @example
 * ```ts
 * import { ourRuleLines, parseSave } from "./save_parser.ts";
 * const dump = parseSave('*nat\n:OUTPUT ACCEPT\n-A OUTPUT -j ACCEPT\n-A OUTPUT -m comment --comment "kuma/mesh/transparent/proxy/x" -j RETURN\nCOMMIT\n');
 * const [line] = ourRuleLines(dump, { positions: true });
 * if (line !== '-t nat -I OUTPUT 2 -m comment --comment "kuma/mesh/transparent/proxy/x" -j RETURN') throw new Error();
 * ```
 */
export function ourRuleLines(dump: SaveDump, options: { positions?: boolean } = {}): string[] {
  const lines: string[] = [];
  for (const t of dump.tables) {
    for (const c of t.chains) if (c.ours) lines.push(`-t ${t.name} -N ${c.name}`);
    for (const c of t.chains) {
      for (const r of c.rules) {
        if (!r.ours) continue;
        const where = options.positions && !c.ours ? `-I ${c.name} ${r.index}` : `-A ${c.name}`;
        lines.push(`-t ${t.name} ${where} ${r.spec}`.trimEnd());
      }
    }
  }
  return lines;
}
