/**
 * The four custom nat chains (kumactl `builder/builder_table_nat.go`,
 * `buildMeshInbound`, `buildMeshOutbound`, `buildMeshRedirect`).
 *
 * @module
 */
import type { IpNet } from "../config/values.ts";
import type { BuildContext } from "./context.ts";
import type { Rule } from "./model.ts";
import {
  destination,
  destinationPort,
  jump,
  outInterface,
  protocol,
  redirectTo,
  source,
  uidOwner,
} from "./params.ts";
import { appendRule, inList } from "./rule.ts";

/** A port list of `direction` (`inbound_exclude_ports`, ...), for {@link inList}. */
function portList(name: string, comment: string) {
  return { name, param: "destination-port", comment };
}

/**
 * IPs/CIDRs of the build's family out of an `excludePortsForIPs` list: kumactl
 * puts IPv4 entries only into iptables and IPv6 ones only into ip6tables.
 *
 * @example
 * ```ts
 * import { addressesOfFamily } from "./nat_chains.ts";
 * const ips = [{ text: "10.0.0.1", family: 4 }, { text: "fd00::/8", family: 6 }] as const;
 * if (addressesOfFamily([...ips], 6).join() !== "fd00::/8") throw new Error();
 * ```
 */
export function addressesOfFamily(entries: readonly IpNet[], family: 4 | 6): string[] {
  return entries.filter((n) => n.family === family).map((n) => n.text);
}

/**
 * KUMA_MESH_INBOUND: skip excluded sources and ports, then send the rest to
 * the inbound redirect chain.
 *
 * Unlike kumactl (quirk K8.4, docs/kumactl.md#k8-4), inbound
 * `excludePortsForUIDs` never produces a bare `-j RETURN` here; config
 * validation rejects it.
 *
 * @example
 * ```ts
 * import { buildMeshInbound } from "./nat_chains.ts";
 * import { buildContext } from "./context.ts";
 * import { defaultConfig } from "../config/defaults.ts";
 * import { FULL_FUNCTIONALITY } from "./facts.ts";
 * const { context } = buildContext(defaultConfig(), {
 *   family: 4, uid: 5678, loopback: "lo", nameservers: [], functionality: FULL_FUNCTIONALITY,
 * });
 * if (buildMeshInbound(context).length !== 1) throw new Error();
 * ```
 */
export function buildMeshInbound(ctx: BuildContext): Rule[] {
  const { inbound } = ctx.config.redirect;
  const chain = ctx.chains.inbound;
  if (!inbound.enabled) {
    return [
      appendRule(chain, "inbound traffic redirection is disabled", [
        protocol("tcp"),
        jump("RETURN"),
      ]),
    ];
  }
  const ips = {
    name: "inbound_exclude_ips",
    param: "source",
    comment: "skip further processing for configured IP addresses",
  };
  const rules: Rule[] = addressesOfFamily(inbound.excludePortsForIPs, ctx.facts.family).map((ip) =>
    inList(
      appendRule(chain, "skip further processing for configured IP address", [
        source(ip),
        jump("RETURN"),
      ]),
      ips,
    )
  );
  if (inbound.includePorts.length > 0) {
    // kumactl ignores excludePorts when includePorts is set.
    const list = portList(
      "inbound_include_ports",
      "redirect inbound traffic from configured ports to the custom chain for processing",
    );
    for (const port of inbound.includePorts) {
      rules.push(inList(
        appendRule(
          chain,
          `redirect inbound traffic from port ${port} to the custom chain for processing`,
          [protocol("tcp"), destinationPort(port), jump(ctx.chains.inboundRedirect)],
        ),
        list,
      ));
    }
    return rules;
  }
  const excluded = portList(
    "inbound_exclude_ports",
    "exclude inbound traffic from configured ports from redirection",
  );
  for (const port of inbound.excludePorts) {
    rules.push(inList(
      appendRule(chain, `exclude inbound traffic from port ${port} from redirection`, [
        protocol("tcp"),
        destinationPort(port),
        jump("RETURN"),
      ]),
      excluded,
    ));
  }
  rules.push(appendRule(chain, "redirect all inbound traffic to the custom chain for processing", [
    protocol("tcp"),
    jump(ctx.chains.inboundRedirect),
  ]));
  return rules;
}

/**
 * KUMA_MESH_OUTBOUND: skip excluded ports, keep envoy's own and loopback
 * traffic out of the loop, then send the rest to the outbound redirect chain.
 *
 * @example
 * ```ts
 * import { buildMeshOutbound } from "./nat_chains.ts";
 * import { buildContext } from "./context.ts";
 * import { defaultConfig } from "../config/defaults.ts";
 * import { FULL_FUNCTIONALITY } from "./facts.ts";
 * const { context } = buildContext(defaultConfig(), {
 *   family: 4, uid: 5678, loopback: "lo", nameservers: [], functionality: FULL_FUNCTIONALITY,
 * });
 * if (buildMeshOutbound(context).length !== 6) throw new Error();
 * ```
 */
export function buildMeshOutbound(ctx: BuildContext): Rule[] {
  const { outbound } = ctx.config.redirect;
  const { uid, loopback } = ctx.facts;
  const chain = ctx.chains.outbound;
  if (!outbound.enabled) {
    return [
      appendRule(chain, "outbound traffic redirection is disabled", [
        protocol("tcp"),
        jump("RETURN"),
      ]),
    ];
  }
  const rules: Rule[] = [];
  if (outbound.includePorts.length === 0) {
    const excluded = portList(
      "outbound_exclude_ports",
      "exclude outbound traffic to configured ports from redirection",
    );
    for (const port of outbound.excludePorts) {
      rules.push(inList(
        appendRule(chain, `exclude outbound traffic from port ${port} from redirection`, [
          protocol("tcp"),
          destinationPort(port),
          jump("RETURN"),
        ]),
        excluded,
      ));
    }
  }
  rules.push(
    appendRule(
      chain,
      `prevent traffic loops by ensuring traffic from the sidecar proxy (using ${ctx.passthrough}) ` +
        "to loopback interface is not redirected again",
      [source(ctx.passthrough), outInterface(loopback), jump("RETURN")],
    ),
    appendRule(
      chain,
      "redirect outbound TCP traffic destined for loopback interface, but not targeting address " +
        `${ctx.localhost}, and owned by UID ${uid} (kuma-dp user) to ${ctx.chains.inboundRedirect} ` +
        "chain for proper handling",
      [
        protocol("tcp"),
        outInterface(loopback),
        destination(ctx.localhost, true),
        uidOwner(uid),
        jump(ctx.chains.inboundRedirect),
      ],
    ),
    appendRule(
      chain,
      "return outbound TCP traffic destined for loopback interface, owned by any UID other than " +
        `${uid} (kuma-dp user)`,
      [protocol("tcp"), outInterface(loopback), uidOwner(uid, true), jump("RETURN")],
    ),
    appendRule(chain, `return outbound traffic owned by UID ${uid} (kuma-dp user)`, [
      uidOwner(uid),
      jump("RETURN"),
    ]),
    appendRule(
      chain,
      `return traffic destined for localhost (${ctx.localhost}) to avoid redirection`,
      [destination(ctx.localhost), jump("RETURN")],
    ),
  );
  if (outbound.includePorts.length > 0) {
    const list = portList(
      "outbound_include_ports",
      "redirect outbound TCP traffic to configured ports to our custom chain for further processing",
    );
    for (const port of outbound.includePorts) {
      rules.push(inList(
        appendRule(
          chain,
          `redirect outbound TCP traffic to port ${port} to our custom chain for further processing`,
          [protocol("tcp"), destinationPort(port), jump(ctx.chains.outboundRedirect)],
        ),
        list,
      ));
    }
  } else {
    rules.push(appendRule(
      chain,
      "redirect all other outbound traffic to our custom chain for further processing",
      [jump(ctx.chains.outboundRedirect)],
    ));
  }
  return rules;
}

/**
 * KUMA_MESH_INBOUND_REDIRECT and KUMA_MESH_OUTBOUND_REDIRECT: the REDIRECTs
 * to envoy's inbound and outbound listeners.
 *
 * @example
 * ```ts
 * import { buildMeshRedirects } from "./nat_chains.ts";
 * import { buildContext } from "./context.ts";
 * import { defaultConfig } from "../config/defaults.ts";
 * import { FULL_FUNCTIONALITY } from "./facts.ts";
 * const { context } = buildContext(defaultConfig(), {
 *   family: 4, uid: 5678, loopback: "lo", nameservers: [], functionality: FULL_FUNCTIONALITY,
 * });
 * if (buildMeshRedirects(context).length !== 2) throw new Error();
 * ```
 */
export function buildMeshRedirects(ctx: BuildContext): Rule[] {
  const { inbound, outbound } = ctx.config.redirect;
  return [
    appendRule(ctx.chains.inboundRedirect, `redirect TCP traffic to envoy (port ${inbound.port})`, [
      protocol("tcp"),
      redirectTo(inbound.port),
    ]),
    appendRule(
      ctx.chains.outboundRedirect,
      `redirect TCP traffic to envoy (port ${outbound.port})`,
      [protocol("tcp"), redirectTo(outbound.port)],
    ),
  ];
}
