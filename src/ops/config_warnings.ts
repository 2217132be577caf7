/**
 * Warnings about configs that install fine but do not do what the user most
 * likely meant (issue 21 item 6). Pure: the caller passes the resolved
 * kuma-dp UID. kumactl accepts all of these silently.
 *
 * @module
 */
import type { Config } from "../config/types.ts";
import { DEFAULT_KUMA_DP_UID, DEFAULT_KUMA_DP_USER } from "../config/defaults.ts";

/**
 * The warnings for `config` with the kuma-dp user resolved to `uid`.
 *
 * @example
 * ```ts ignore
 * for (const w of configWarnings(config, 0)) warn(io, w); // "the kuma-dp user is root ..."
 * ```
 */
export function configWarnings(config: Config, uid: number): string[] {
  const warnings: string[] = [];
  const { inbound, outbound } = config.redirect;
  if (uid === 0) {
    // The outbound rules return every packet of the kuma-dp user's UID
    // unredirected (nat_chains.ts), so with root nothing root runs is meshed.
    warnings.push(
      "the kuma-dp user is root (UID 0): the traffic of the kuma-dp user is never redirected, " +
        "so nothing that runs as root goes through the mesh; run kuma-dp as a user of its own " +
        `(${DEFAULT_KUMA_DP_USER}, UID ${DEFAULT_KUMA_DP_UID})`,
    );
  }
  if (inbound.enabled && outbound.enabled && inbound.port === outbound.port) {
    warnings.push(
      `redirect.inbound.port and redirect.outbound.port are both ${inbound.port}: kuma-dp ` +
        "takes inbound and outbound connections on different listeners (15006 and 15001 by " +
        "default), so one direction reaches the wrong one",
    );
  }
  for (const [name, traffic] of [["inbound", inbound], ["outbound", outbound]] as const) {
    if (!traffic.enabled) continue;
    const both = traffic.includePorts.filter((p) => traffic.excludePorts.includes(p));
    if (both.length === 0) continue;
    const ports = [...new Set(both)].sort((a, b) => a - b);
    const which = ports.length === 1
      ? `port ${ports[0]} is`
      : `ports ${ports.slice(0, -1).join(", ")} and ${ports.at(-1)} are`;
    warnings.push(
      `${which} in both redirect.${name}.includePorts and redirect.${name}.excludePorts: ` +
        "with includePorts set, excludePorts is ignored (as in kumactl), so " +
        `${ports.length === 1 ? "it is" : "they are"} redirected`,
    );
  }
  if (config.allowFirewalldFlush && (!config.storeFirewalld || config.backend !== "iptables")) {
    // The flag only accepts a flush that our direct entries would cause (firewalld F12).
    warnings.push(
      "allowFirewalldFlush does nothing here: it only applies to --store-firewalld with the " +
        "iptables backend, where our direct entries would make firewalld 2.x flush iptables",
    );
  }
  return warnings;
}
