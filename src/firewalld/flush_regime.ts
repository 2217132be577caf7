/**
 * Whether storing our rules as firewalld direct entries would make firewalld
 * flush iptables rules that are not ours (firewalld F12,
 * docs/firewalld.md#f12). firewalld 2.0 (commit b7faa74d) leaves iptables
 * alone while FirewallBackend=nftables and its direct config is empty; the
 * first direct entry, and every reload, restart or stop while one exists,
 * runs `-F`, `-X`, `-Z` on every iptables and ip6tables table. Before 2.0, or
 * with FirewallBackend=iptables, firewalld flushes them at every start,
 * reload and stop whatever we store, so our entries change nothing there.
 *
 * Pure decisions over facts read first (`flush_facts.ts` reads them); the
 * CLI refuses or warns from the verdict.
 *
 * @module
 */
import type { DirectEntry } from "./direct_entries.ts";
import { isOurEntry } from "./direct_entries.ts";

/**
 * - `on_direct`: iptables is flushed only while the direct config holds an
 *   entry (firewalld 2.x, or a 1.x with the change backported, with
 *   FirewallBackend=nftables);
 * - `always`: iptables is flushed at every start, reload and stop anyway.
 */
export type FlushRegime = "on_direct" | "always";

/** What tells the regime; each may be unknown. */
export interface RegimeFacts {
  /** firewalld.conf's text, null when missing (firewalld's defaults apply). */
  conf: string | null;
  /** The running firewalld's `version` property, else the installed package's VERSION. */
  version: string | null;
  /**
   * Whether the installed firewalld's `firewall/core/fw.py` defines
   * `may_skip_flush_direct_backends` (the function b7faa74d added); null when
   * that file was not found.
   */
  skipsFlush: boolean | null;
}

/**
 * FirewallBackend as firewalld reads firewalld.conf (`firewall/core/io/
 * firewalld_conf.py`: first `key=value` wins, `#`/`;` comments; anything but
 * `iptables` means nftables, the default since 0.6).
 *
 * @example
 * ```ts
 * import { firewallBackend } from "./flush_regime.ts";
 * if (firewallBackend("FirewallBackend=iptables\n") !== "iptables") throw new Error();
 * if (firewallBackend(null) !== "nftables") throw new Error();
 * ```
 */
export function firewallBackend(conf: string | null): "nftables" | "iptables" {
  for (const raw of (conf ?? "").split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const pair = line.split("=").map((s) => s.trim());
    if (pair.length !== 2 || pair[0] !== "FirewallBackend" || pair[1] === "") continue;
    return pair[1].toLowerCase() === "iptables" ? "iptables" : "nftables";
  }
  return "nftables";
}

/** The major version of a firewalld version string ("2.3.1" → 2), or null. */
function major(version: string | null): number | null {
  const m = /^(\d+)\./.exec(version ?? "");
  return m ? Number(m[1]) : null;
}

/**
 * The regime, and why, in words for messages. The version alone cannot rule
 * `on_direct` out: RHEL 9.3+ ships the change in its 1.2/1.3 packages
 * (firewalld issue #1340, firewalld-1.2.5-2.el9_3), so below 2.0 the
 * installed source decides, and when it cannot be read we assume the worst
 * for a store: `on_direct`, with `proven: false`. Whoever would conclude
 * from `on_direct` that firewalld leaves iptables alone must check `proven`.
 *
 * @example
 * ```ts
 * import { flushRegime } from "./flush_regime.ts";
 * const r = flushRegime({ conf: null, version: "2.3.1", skipsFlush: null });
 * if (r.regime !== "on_direct") throw new Error(r.why);
 * ```
 */
export function flushRegime(
  facts: RegimeFacts,
): { regime: FlushRegime; why: string; proven: boolean } {
  if (firewallBackend(facts.conf) === "iptables") {
    return {
      regime: "always",
      why: "FirewallBackend=iptables: firewalld flushes iptables at every start and reload",
      proven: true,
    };
  }
  const v = major(facts.version);
  if (v !== null && v >= 2) {
    return { regime: "on_direct", why: `firewalld ${facts.version}`, proven: true };
  }
  if (facts.skipsFlush === true) {
    return {
      regime: "on_direct",
      why: `firewalld ${facts.version ?? "(version unknown)"} with firewalld 2.0's iptables change`,
      proven: true,
    };
  }
  if (facts.skipsFlush === false) {
    return {
      regime: "always",
      why: `firewalld ${facts.version ?? "before 2.0"} flushes iptables at every start and reload`,
      proven: true,
    };
  }
  return {
    regime: "on_direct",
    why: `firewalld ${
      facts.version ?? "(version unknown)"
    } (its source was not found, so firewalld 2.0's iptables change cannot be ruled out)`,
    proven: false,
  };
}

/** An iptables rule or chain that is not ours, as firewalld's flush would take it. */
export interface ForeignIptables {
  family: 4 | 6;
  table: string;
  chain: string;
  /**
   * The rule as iptables-save prints it (`-A CHAIN ...`); undefined for a
   * user chain (`notOurs()` in src/iptables/save_parser.ts lists both).
   */
  rule?: string;
}

/** The decision for a `--store-firewalld`. */
export interface FlushVerdict {
  /** Our entries would be what makes firewalld flush iptables. */
  flushes: boolean;
  /** Refuse: it flushes, foreign rules are there, and the flush was not accepted. */
  refuse: boolean;
  /** What the flush would take (empty unless `flushes`). */
  foreign: ForeignIptables[];
}

/**
 * Whether our direct entries would make firewalld flush foreign iptables
 * rules: only in the `on_direct` regime, and only when no foreign direct
 * entry (chain, rule or passthrough, runtime or permanent) is there, since
 * one already makes firewalld flush at every reload, whatever we store.
 *
 * @example
 * ```ts
 * import { flushVerdict } from "./flush_regime.ts";
 * const admin = { family: 4, table: "filter", chain: "INPUT", rule: "-A INPUT -j ACCEPT" } as const;
 * const v = flushVerdict({ regime: "on_direct", direct: [], foreign: [admin], allowFlush: false });
 * if (!v.refuse) throw new Error();
 * ```
 */
export function flushVerdict(input: {
  regime: FlushRegime;
  /** firewalld's direct entries now: runtime and permanent (or direct.xml). */
  direct: readonly DirectEntry[];
  foreign: readonly ForeignIptables[];
  allowFlush: boolean;
}): FlushVerdict {
  const flushes = input.regime === "on_direct" && input.direct.every(isOurEntry);
  const foreign = flushes ? [...input.foreign] : [];
  return { flushes, refuse: flushes && foreign.length > 0 && !input.allowFlush, foreign };
}

/** One line per foreign rule or chain: `IPv4 nat PREROUTING: -A PREROUTING ...`. */
export function describeForeign(items: readonly ForeignIptables[]): string[] {
  return items.map((f) => `IPv${f.family} ${f.table} ${f.chain}: ${f.rule ?? `-N ${f.chain}`}`);
}

/** What is true while our entries sit in an `on_direct` firewalld: said by install and status. */
export const FLUSH_WARNING =
  "firewalld flushes every iptables and ip6tables table at each reload, restart and stop while " +
  "its direct config holds an entry, so with our entries stored there every firewalld reload " +
  "also flushes other tools' iptables rules (docker's, an admin's); `--backend nftables` needs " +
  "no direct entry";
