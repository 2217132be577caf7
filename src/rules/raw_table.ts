/**
 * The raw table: conntrack zone split for DNS (kumactl
 * `builder/builder_table_raw.go`). Zone 1 holds the conversation between
 * kuma-dp and the real resolvers, zone 2 the one between the applications and
 * the kuma-dp DNS proxy, so that conntrack does not merge the two UDP flows
 * that REDIRECT makes look alike (kumactl issue #11546).
 *
 * @module
 */
import type { BuildContext } from "./context.ts";
import { isLoopbackAddress } from "./dns.ts";
import type { Rule, Table } from "./model.ts";
import {
  conntrackZone,
  destination,
  destinationPort,
  protocol,
  source,
  sourcePort,
  uidOwner,
} from "./params.ts";
import { appendRule } from "./rule.ts";

const DNS_PORT = 53;

/**
 * Builds the raw table; it has no rules unless the conntrack zone split is on.
 *
 * @example
 * ```ts
 * import { buildRawTable } from "./raw_table.ts";
 * import { buildContext } from "./context.ts";
 * import { defaultConfig } from "../config/defaults.ts";
 * import { FULL_FUNCTIONALITY } from "./facts.ts";
 * const { context } = buildContext(defaultConfig(), {
 *   family: 4, uid: 5678, loopback: "lo", nameservers: [], functionality: FULL_FUNCTIONALITY,
 * });
 * if (buildRawTable(context).rules.length !== 0) throw new Error();
 * ```
 */
export function buildRawTable(ctx: BuildContext): Table {
  const rules: Rule[] = [];
  const { dns, facts } = ctx;
  if (!dns.conntrackZoneSplit) return { name: "raw", chains: [], rules };

  if (dns.captureAll) {
    rules.push(appendRule("PREROUTING", "assign connection tracking zone 1 to all DNS responses", [
      protocol("udp"),
      sourcePort(DNS_PORT),
      conntrackZone(1),
    ]));
  } else {
    // kumactl PR #11684 matches responses by source (-s); before it used -d.
    for (const server of dns.servers) {
      rules.push(appendRule(
        "PREROUTING",
        `assign connection tracking zone 1 to DNS responses from ${server}`,
        [source(server), protocol("udp"), sourcePort(DNS_PORT), conntrackZone(1)],
      ));
    }
  }

  rules.push(
    appendRule(
      "OUTPUT",
      `assign connection tracking zone 1 to DNS traffic from the kuma-dp user (UID ${facts.uid})`,
      [protocol("udp"), destinationPort(DNS_PORT), uidOwner(facts.uid), conntrackZone(1)],
    ),
    appendRule(
      "OUTPUT",
      "assign connection tracking zone 2 to DNS responses from the kuma-dp DNS proxy",
      [protocol("udp"), sourcePort(dns.port), uidOwner(facts.uid), conntrackZone(2)],
    ),
  );

  if (dns.captureAll) {
    rules.push(appendRule("OUTPUT", "assign connection tracking zone 2 to all DNS requests", [
      protocol("udp"),
      destinationPort(DNS_PORT),
      conntrackZone(2),
    ]));
  } else {
    for (const server of dns.servers) {
      rules.push(appendRule(
        "OUTPUT",
        `assign connection tracking zone 2 to DNS requests destined for ${server}`,
        [destination(server), protocol("udp"), destinationPort(DNS_PORT), conntrackZone(2)],
      ));
      if (isLoopbackAddress(server)) {
        // A local resolver (127.0.0.53, Docker's 127.0.0.11) may answer from
        // a port that a DNAT rewrote, so its replies to localhost must be put
        // back in zone 1 (kumactl PR #11684).
        rules.push(appendRule(
          "OUTPUT",
          "assign conntrack zone 1 to DNS responses from the local DNS server to localhost, " +
            "needed when the DNS query port is altered by a DNAT iptables rule, " +
            "such as with Docker containers in a custom network",
          [source(server), destination(ctx.localhost), protocol("udp"), conntrackZone(1)],
        ));
      }
    }
  }
  return { name: "raw", chains: [], rules };
}
