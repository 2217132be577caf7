/**
 * Lockout guards: warnings before rules are applied that could cut the
 * operator off or break traffic. Pure: the caller gathers the facts.
 */
import type { Config } from "../config/types.ts";

export interface GuardFacts {
  listeningPorts: Set<number>;
  firewalldRunning: boolean;
  /**
   * The running firewalld leaves iptables alone (firewalld 2.x with an empty
   * direct config, docs/firewalld.md#f12): its reloads keep these rules.
   */
  firewalldLeavesIptables?: boolean;
}

const SSH_PORT = 22;

function inboundSkipsPort(config: Config, port: number): boolean {
  const inbound = config.redirect.inbound;
  if (!inbound.enabled) return true;
  if (inbound.includePorts.length > 0) return !inbound.includePorts.includes(port);
  return inbound.excludePorts.includes(port);
}

export function lockoutWarnings(config: Config, facts: GuardFacts): string[] {
  const warnings: string[] = [];
  const { inbound, outbound } = config.redirect;
  if (facts.listeningPorts.has(SSH_PORT) && !inboundSkipsPort(config, SSH_PORT)) {
    warnings.push(
      `something listens on port ${SSH_PORT} (SSH?) and inbound traffic to it will be redirected ` +
        `to port ${inbound.port}: if kuma-dp does not serve it, SSH sessions will fail. ` +
        `Add --exclude-inbound-ports ${SSH_PORT} to keep SSH reachable`,
    );
  }
  const idle = [
    inbound.enabled ? inbound.port : undefined,
    outbound.enabled ? outbound.port : undefined,
  ].filter((p): p is number => p !== undefined && !facts.listeningPorts.has(p));
  if (idle.length > 0) {
    warnings.push(
      `nothing listens on the redirect port${idle.length > 1 ? "s" : ""} ${
        idle.join(" and ")
      } yet: ` +
        `redirected connections will be refused until kuma-dp runs (start kuma-dp first)`,
    );
  }
  // firewalld leaves foreign nft tables alone at reload (it deletes only its own).
  if (facts.firewalldRunning && !config.storeFirewalld && config.backend === "iptables") {
    warnings.push(
      facts.firewalldLeavesIptables
        ? "firewalld is running and leaves iptables alone while its direct config is empty " +
          "(firewalld 2.x), so its reloads keep these rules; but nothing restores them after a " +
          "reboot, and the first direct rule anyone adds to firewalld flushes them"
        : "firewalld is running: it flushes iptables at every reload and restart, which removes these rules. " +
          "Use --store-firewalld to let firewalld own and restore them",
    );
  }
  return warnings;
}

/**
 * iptables rules that only our boot unit restores, on a host where firewalld
 * is installed but stopped (issue 22 item 8): when firewalld starts (an
 * admin, a package update, the next boot's ordering aside) it flushes every
 * iptables table (firewalld F1, docs/firewalld.md#f1), and the rules are
 * gone until the next boot. Its `After=firewalld.service` only covers a
 * firewalld started at boot. The nftables backend's table survives a
 * firewalld start; `--store-firewalld` makes firewalld restore the rules.
 * Said by install and by status; undefined when it does not apply.
 *
 * @example
 * ```ts
 * import { stoppedFirewalldWarning } from "./guards.ts";
 * const w = stoppedFirewalldWarning({ backend: "nftables" }, { firewalld: "stopped", unit: true });
 * if (w !== undefined) throw new Error(w);
 * ```
 */
export function stoppedFirewalldWarning(
  config: Pick<Config, "backend">,
  facts: {
    firewalld: "running" | "stopped" | "absent";
    unit: boolean;
    /** firewalld 2.x with no direct entry of others: its start leaves iptables alone (F12). */
    leavesIptables?: boolean;
  },
): string | undefined {
  if (
    config.backend !== "iptables" || !facts.unit || facts.firewalld !== "stopped" ||
    facts.leavesIptables
  ) {
    return undefined;
  }
  return "firewalld is installed but not running: when it starts it flushes iptables, and these " +
    "rules with it (until the next boot, when kuma-tproxy.service applies them again). Use " +
    "--backend nftables (firewalld leaves that table alone) or --store-firewalld (firewalld " +
    "then owns and restores the rules)";
}
