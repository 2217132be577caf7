/**
 * The rule model: parameters, then rule, then chain, then table. Builders
 * return this data; renderers turn it into iptables-restore text (short or
 * verbose form) and firewalld direct entries. Nothing here executes anything.
 */

export type Family = 4 | 6;
export type TableName = "raw" | "nat" | "mangle";

/** Tables in the order they are written (kumactl: raw, nat, mangle). */
export const TABLE_ORDER: readonly TableName[] = ["raw", "nat", "mangle"];

/** Every rule's comment starts with this (kumactl `consts.IptablesRuleCommentPrefix`). */
export const COMMENT_PREFIX = "kuma/mesh/transparent/proxy";
/** Every chain we create starts with this (kumactl `consts.IptablesChainsPrefix`). */
export const CHAIN_PREFIX = "KUMA_MESH";

/**
 * One option of a rule, in the order it is written. `name` keys into
 * OPTION_FORMS for the short/long spelling; options not listed there are
 * written as `--name` in both forms (`--uid-owner`, `--to-ports`, ...).
 */
export interface Param {
  name: string;
  value?: string;
  /** Written as `! --opt value`. */
  negate?: boolean;
}

/** Short and verbose spellings, as kumactl's `parameters/*.go` writes them. */
export const OPTION_FORMS: Readonly<Record<string, readonly [short: string, long: string]>> = {
  append: ["-A", "--append"],
  insert: ["-I", "--insert"],
  "new-chain": ["-N", "--new-chain"],
  protocol: ["-p", "--protocol"],
  source: ["-s", "--source"],
  destination: ["-d", "--destination"],
  "in-interface": ["-i", "--in-interface"],
  "out-interface": ["-o", "--out-interface"],
  "source-port": ["--sport", "--source-port"],
  "destination-port": ["--dport", "--destination-port"],
  match: ["-m", "--match"],
  jump: ["-j", "--jump"],
};

/**
 * Marks a rule as one entry of a configured list (excluded IPs, ports). The
 * iptables renderers ignore it; the nftables backend folds the consecutive
 * entries of one list into a single rule that looks `param` up in a named set,
 * so the rule count stays flat however long the list grows.
 */
export interface RuleList {
  /** Set name stem, unique per chain ("outbound_exclude_ips"). */
  name: string;
  /** The option whose value differs between entries ("destination", "destination-port"). */
  param: string;
  /** Comment text of the folded rule (without the prefix). */
  comment: string;
}

export interface Rule {
  chain: string;
  /** Inserted rules go to the top of the chain in generation order; appended ones after foreign rules. */
  insert: boolean;
  /** Comment text without the prefix; must not contain `"` or `'` (firewalld re-quotes arguments). */
  comment: string;
  params: Param[];
  /** Set when the rule is one entry of a configured list. */
  list?: RuleList;
}

export interface Table {
  name: TableName;
  /** Custom chains to create (`-N`), in creation order. */
  chains: string[];
  /** Rules in generation order. */
  rules: Rule[];
}

export interface RuleSet {
  family: Family;
  /** Only non-empty tables, in TABLE_ORDER. */
  tables: Table[];
}
