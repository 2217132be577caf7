/**
 * The nat table: the jumps from PREROUTING and OUTPUT into the custom chains,
 * DNS redirection, outbound exclusions, vnet and logging (kumactl
 * `builder/builder_table_nat.go`).
 *
 * Divergences from kumactl, on purpose (kumactl quirk K8.6, docs/kumactl.md#k8-6):
 * - vnet DNS-redirect PREROUTING rules only exist when DNS redirect is
 *   on for the family; kumactl adds them even with DNS off.
 * - the PREROUTING LOG rule is inserted first, so it sees every packet;
 *   kumactl appends it, which lands it after the inserted vnet or inbound jumps.
 *
 * @module
 */
import type { PortRange } from "../config/values.ts";
import type { BuildContext } from "./context.ts";
import type { Rule, Table } from "./model.ts";
import {
  addressesOfFamily,
  buildMeshInbound,
  buildMeshOutbound,
  buildMeshRedirects,
} from "./nat_chains.ts";
import {
  destination,
  destinationPort,
  inInterface,
  jump,
  log,
  multiportDestinationPorts,
  protocol,
  redirectTo,
  uidOwner,
} from "./params.ts";
import { appendRule, inList, insertRule } from "./rule.ts";

const DNS_PORT = 53;
const EXCLUSION_COMMENT = "skip further processing for configured IP addresses, ports and UIDs";

/** `a` or `a:b`, as iptables wants ranges. */
function range(r: PortRange): string {
  return r.from === r.to ? String(r.from) : `${r.from}:${r.to}`;
}

/**
 * Port lists for `-m multiport --dports`, split so that none exceeds the 15
 * slots xt_multiport has (a range takes two); kumactl writes one list and
 * iptables-restore rejects it when it is longer.
 */
export function multiportChunks(ports: PortRange[]): string[] {
  const chunks: string[] = [];
  let current: string[] = [];
  let slots = 0;
  for (const p of ports) {
    const need = p.from === p.to ? 1 : 2;
    if (slots + need > 15) {
      chunks.push(current.join(","));
      current = [];
      slots = 0;
    }
    current.push(range(p));
    slots += need;
  }
  if (current.length > 0) chunks.push(current.join(","));
  return chunks;
}

function logRule(chain: "PREROUTING" | "OUTPUT", level: number): Rule {
  return insertRule(chain, "log matching packets using kernel logging", [log(`${chain}:`, level)]);
}

/**
 * PREROUTING: the jump into KUMA_MESH_INBOUND, preceded by the vnet rules
 * that send traffic from bridged networks (Docker) to envoy.
 */
function buildPrerouting(ctx: BuildContext): Rule[] {
  const { config, facts, dns, chains } = ctx;
  const rules: Rule[] = [];
  // kumactl quirk K8.6 fixed (docs/kumactl.md#k8-6): insert, so the LOG rule
  // is first in PREROUTING.
  if (config.log.enabled) rules.push(logRule("PREROUTING", config.log.level));

  const networks = config.redirect.vnet.networks
    .filter((n) => n.cidr.family === facts.family)
    // kumactl walks its interface map in sorted order (Go sort.Strings: bytes).
    .sort((a, b) => (a.iface < b.iface ? -1 : a.iface > b.iface ? 1 : 0));
  for (const { iface, cidr } of networks) {
    // kumactl quirk K8.6 fixed (docs/kumactl.md#k8-6): only with DNS redirect on for this family.
    if (dns.enabled) {
      rules.push(insertRule(
        "PREROUTING",
        `redirect DNS requests on interface ${iface} to the kuma-dp DNS proxy ` +
          `(listening on port ${dns.port})`,
        [inInterface(iface), protocol("udp"), destinationPort(DNS_PORT), redirectTo(dns.port)],
      ));
    }
    const port = config.redirect.outbound.port;
    rules.push(insertRule(
      "PREROUTING",
      // kumactl says "the envoy's outbound passthrough port"; quotes are not
      // allowed in comments (firewalld re-quotes arguments).
      `redirect TCP traffic on interface ${iface}, excluding destination ${cidr.text}, ` +
        `to the outbound passthrough port of envoy ${port}`,
      [destination(cidr.text, true), inInterface(iface), protocol("tcp"), redirectTo(port)],
    ));
  }

  const params = [protocol("tcp"), jump(chains.inbound)];
  if (networks.length > 0 || config.redirect.inbound.insertRedirectInsteadOfAppend) {
    rules.push(
      insertRule(
        "PREROUTING",
        "redirect remaining TCP traffic to our custom chain for processing",
        params,
      ),
    );
  } else {
    rules.push(
      appendRule(
        "PREROUTING",
        "redirect inbound TCP traffic to our custom chain for processing",
        params,
      ),
    );
  }
  return rules;
}

/** Outbound exclusions by UID, then by destination IP, inserted at the top of OUTPUT. */
function buildOutboundExclusions(ctx: BuildContext): Rule[] {
  const { outbound } = ctx.config.redirect;
  const rules: Rule[] = [];
  for (const exclusion of outbound.excludePortsForUIDs) {
    for (const proto of exclusion.protocols) {
      for (const ports of multiportChunks(exclusion.ports)) {
        rules.push(insertRule("OUTPUT", EXCLUSION_COMMENT, [
          protocol(proto),
          multiportDestinationPorts(ports),
          uidOwner(range(exclusion.uids)),
          jump("RETURN"),
        ]));
      }
    }
  }
  const list = {
    name: "outbound_exclude_ips",
    param: "destination",
    comment: "skip further processing for configured IP addresses",
  };
  for (const ip of addressesOfFamily(outbound.excludePortsForIPs, ctx.facts.family)) {
    rules.push(
      inList(insertRule("OUTPUT", EXCLUSION_COMMENT, [destination(ip), jump("RETURN")]), list),
    );
  }
  return rules;
}

/** The DNS rules of OUTPUT: kuma-dp's own queries go out, the applications' go to its proxy. */
function buildOutputDns(ctx: BuildContext): Rule[] {
  const { dns, facts } = ctx;
  if (!dns.enabled) return [];
  const docker = facts.functionality.dockerOutput;
  const rules: Rule[] = [
    insertRule(
      "OUTPUT",
      docker
        ? "redirect DNS traffic from kuma-dp to the DOCKER_OUTPUT chain"
        : "return early for DNS traffic from kuma-dp",
      [
        protocol("udp"),
        destinationPort(DNS_PORT),
        uidOwner(facts.uid),
        jump(docker ? "DOCKER_OUTPUT" : "RETURN"),
      ],
    ),
    // kumactl issue #15400: TCP DNS must not reach envoy, which resets it.
    appendRule(
      "OUTPUT",
      "allow applications to perform DNS queries over TCP to port 53 without mesh redirection " +
        `(only traffic not owned by UID ${facts.uid} (kuma-dp user))`,
      [protocol("tcp"), destinationPort(DNS_PORT), uidOwner(facts.uid, true), jump("RETURN")],
    ),
  ];
  if (dns.captureAll) {
    rules.push(insertRule(
      "OUTPUT",
      `redirect all DNS requests to the kuma-dp DNS proxy (listening on port ${dns.port})`,
      [protocol("udp"), destinationPort(DNS_PORT), redirectTo(dns.port)],
    ));
  } else {
    for (const server of dns.servers) {
      rules.push(insertRule(
        "OUTPUT",
        `redirect DNS requests to ${server} to the kuma-dp DNS proxy (listening on port ${dns.port})`,
        [destination(server), protocol("udp"), destinationPort(DNS_PORT), redirectTo(dns.port)],
      ));
    }
  }
  return rules;
}

/** OUTPUT: log, exclusions, DNS, then the jump into KUMA_MESH_OUTBOUND. */
function buildOutput(ctx: BuildContext): Rule[] {
  const { config, chains } = ctx;
  const jumpOut = [protocol("tcp"), jump(chains.outbound)];
  const comment = "redirect outbound TCP traffic to our custom chain for processing";
  return [
    ...(config.log.enabled ? [logRule("OUTPUT", config.log.level)] : []),
    ...buildOutboundExclusions(ctx),
    ...buildOutputDns(ctx),
    config.redirect.outbound.insertRedirectInsteadOfAppend
      ? insertRule("OUTPUT", comment, jumpOut)
      : appendRule("OUTPUT", comment, jumpOut),
  ];
}

/**
 * Builds the nat table for the context's family.
 *
 * @example
 * ```ts
 * import { buildNatTable } from "./nat_table.ts";
 * import { buildContext } from "./context.ts";
 * import { defaultConfig } from "../config/defaults.ts";
 * import { FULL_FUNCTIONALITY } from "./facts.ts";
 * const { context } = buildContext(defaultConfig(), {
 *   family: 4, uid: 5678, loopback: "lo", nameservers: [], functionality: FULL_FUNCTIONALITY,
 * });
 * const nat = buildNatTable(context);
 * if (nat.chains.length !== 4 || nat.rules.length !== 11) throw new Error();
 * ```
 */
export function buildNatTable(ctx: BuildContext): Table {
  const { chains } = ctx;
  return {
    name: "nat",
    chains: [chains.inbound, chains.outbound, chains.inboundRedirect, chains.outboundRedirect],
    rules: [
      ...buildPrerouting(ctx),
      ...buildOutput(ctx),
      ...buildMeshInbound(ctx),
      ...buildMeshOutbound(ctx),
      ...buildMeshRedirects(ctx),
    ],
  };
}
