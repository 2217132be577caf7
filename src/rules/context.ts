/**
 * Everything the per-table builders derive from the config and host facts,
 * computed once: chain names, the family's fixed addresses and the DNS plan.
 *
 * @module
 */
import type { Config } from "../config/types.ts";
import type { BuildFacts } from "./facts.ts";
import { type DnsPlan, planDns } from "./dns.ts";
import { CHAIN_PREFIX } from "./model.ts";

/** Names of the four custom nat chains. */
export interface ChainNames {
  inbound: string;
  outbound: string;
  inboundRedirect: string;
  outboundRedirect: string;
}

/** Inputs shared by the table builders. */
export interface BuildContext {
  config: Config;
  facts: BuildFacts;
  chains: ChainNames;
  /** 127.0.0.1/32 or ::1/128 (kumactl `consts.LocalhostCIDRIPv4/6`). */
  localhost: string;
  /** 127.0.0.6/32 or ::6/128: the source envoy uses for inbound passthrough. */
  passthrough: string;
  dns: DnsPlan;
}

/**
 * Chain names as kumactl builds them: `KUMA_MESH_` + the configured name.
 *
 * @example
 * ```ts
 * import { chainNames } from "./context.ts";
 * import { defaultConfig } from "../config/defaults.ts";
 * if (chainNames(defaultConfig()).outboundRedirect !== "KUMA_MESH_OUTBOUND_REDIRECT") {
 *   throw new Error();
 * }
 * ```
 */
export function chainNames(config: Config): ChainNames {
  const { inbound, outbound } = config.redirect;
  const name = (n: string) => `${CHAIN_PREFIX}_${n}`;
  return {
    inbound: name(inbound.chainName),
    outbound: name(outbound.chainName),
    inboundRedirect: name(inbound.redirectChainName),
    outboundRedirect: name(outbound.redirectChainName),
  };
}

/**
 * Builds the shared context for one family, with the warnings that deciding
 * it produced.
 *
 * @example
 * ```ts
 * import { buildContext } from "./context.ts";
 * import { defaultConfig } from "../config/defaults.ts";
 * import { FULL_FUNCTIONALITY } from "./facts.ts";
 * const { context } = buildContext(defaultConfig(), {
 *   family: 6, uid: 5678, loopback: "lo", nameservers: [], functionality: FULL_FUNCTIONALITY,
 * });
 * if (context.passthrough !== "::6/128") throw new Error();
 * ```
 */
export function buildContext(
  config: Config,
  facts: BuildFacts,
): { context: BuildContext; warnings: string[] } {
  const { plan, warnings } = planDns(config, facts);
  const v4 = facts.family === 4;
  return {
    context: {
      config,
      facts,
      chains: chainNames(config),
      localhost: v4 ? "127.0.0.1/32" : "::1/128",
      passthrough: v4 ? "127.0.0.6/32" : "::6/128",
      dns: plan,
    },
    warnings,
  };
}
