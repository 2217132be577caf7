/**
 * What the DNS rules of one family look like, decided once from the config
 * and the host facts (kumactl `InitializedDNS`, config/config.go).
 *
 * @module
 */
import type { Config } from "../config/types.ts";
import { ipv4Bytes, ipv6Groups } from "../net/ip.ts";
import type { BuildFacts } from "./facts.ts";

/** The DNS part of the rule set for one family. */
export interface DnsPlan {
  /** Redirect DNS for this family at all. */
  enabled: boolean;
  /** Redirect every UDP/53 packet rather than those to the resolvers. */
  captureAll: boolean;
  /** Resolvers to redirect (empty with captureAll). */
  servers: string[];
  /** Emit the raw-table conntrack zone rules. */
  conntrackZoneSplit: boolean;
  /** Port of the kuma-dp DNS proxy. */
  port: number;
}

/**
 * Decides the DNS plan for `facts.family`, with the warnings kumactl prints
 * for the same situations.
 *
 * @example
 * ```ts
 * import { planDns } from "./dns.ts";
 * import { defaultConfig } from "../config/defaults.ts";
 * import { FULL_FUNCTIONALITY } from "./facts.ts";
 * const config = defaultConfig();
 * config.redirect.dns.enabled = true;
 * const facts = { family: 6 as const, uid: 5678, loopback: "lo", nameservers: [],
 *   functionality: FULL_FUNCTIONALITY };
 * const { plan, warnings } = planDns(config, facts);
 * if (plan.enabled || warnings.length !== 1) throw new Error();
 * ```
 */
export function planDns(config: Config, facts: BuildFacts): { plan: DnsPlan; warnings: string[] } {
  const dns = config.redirect.dns;
  const warnings: string[] = [];
  // kumactl forces enabled=true when captureAll is set; config resolution does
  // that too, but the builders must not depend on it.
  const captureAll = dns.captureAll;
  let enabled = dns.enabled || captureAll;
  const servers = captureAll ? [] : [...facts.nameservers];
  if (enabled && !captureAll && servers.length === 0) {
    // kumactl PR #10800 (issue #10799): without resolvers of this family the
    // per-resolver rules would be broken, so DNS capture is skipped with a warning.
    warnings.push(
      `no IPv${facts.family} DNS servers found in ${dns.resolvConfigPath}. ` +
        `DNS traffic capture for IPv${facts.family} will be disabled`,
    );
    enabled = false;
  }
  const fn = facts.functionality;
  let conntrackZoneSplit = enabled && !dns.skipConntrackZoneSplit;
  if (conntrackZoneSplit) {
    const missing = [
      ...(fn.tables.nat ? [] : ["the 'nat' table"]),
      ...(fn.tables.raw ? [] : ["the 'raw' table"]),
      ...(["conntrack", "udp", "owner"] as const)
        .filter((m) => !fn.modules[m])
        .map((m) => `the '${m}' iptables module`),
    ];
    if (missing.length > 0) {
      warnings.push(
        `conntrack zone splitting is disabled. This requires ${missing.join(" and ")}`,
      );
      conntrackZoneSplit = false;
    } else if (fn.dockerOutput && captureAll) {
      warnings.push(
        "conntrack zone splitting is unsupported when capturing all DNS traffic " +
          "inside Docker containers with custom networks",
      );
      conntrackZoneSplit = false;
    }
  }
  return { plan: { enabled, captureAll, servers, conntrackZoneSplit, port: dns.port }, warnings };
}

/**
 * Whether a resolver address is on the loopback network (127.0.0.0/8 or ::1),
 * such as systemd-resolved's 127.0.0.53 or Docker's embedded 127.0.0.11.
 *
 * @example
 * ```ts
 * import { isLoopbackAddress } from "./dns.ts";
 * if (!isLoopbackAddress("127.0.0.53") || isLoopbackAddress("10.0.0.2")) throw new Error();
 * ```
 */
export function isLoopbackAddress(addr: string): boolean {
  const a = addr.trim().replace(/\/\d+$/, "");
  if (ipv4Bytes(a)?.[0] === 127) return true;
  return ipv6Groups(a)?.join(":") === "0:0:0:0:0:0:0:1";
}
