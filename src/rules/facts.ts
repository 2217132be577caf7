/**
 * What the rule builders need to know besides the config: the facts of one
 * family, and what its iptables backend can do. The types live here, with
 * the builders that read them, so that the layers which find the facts
 * (host for users and nameservers, iptables for `Functionality`) import
 * them from below instead of the builders importing from above.
 *
 * @module
 */
import type { Family } from "./model.ts";

/** What the detected iptables backend can do, per family (kumactl `Functionality`). */
export interface Functionality {
  tables: { nat: boolean; raw: boolean; mangle: boolean };
  modules: {
    comment: boolean;
    conntrack: boolean;
    owner: boolean;
    multiport: boolean;
    tcp: boolean;
    udp: boolean;
  };
  /** The nat table has a `DOCKER_OUTPUT` chain (Docker's embedded DNS). */
  dockerOutput: boolean;
}

/** Everything the builders need besides the config. */
export interface BuildFacts {
  family: Family;
  /** Resolved kuma-dp UID. */
  uid: number;
  loopback: string;
  /** Nameservers of this family (ignored when DNS capture-all is on). */
  nameservers: string[];
  functionality: Functionality;
}

/**
 * A Functionality with everything present: what a standard Linux host has.
 *
 * @example
 * ```ts
 * import { FULL_FUNCTIONALITY } from "./facts.ts";
 * if (!FULL_FUNCTIONALITY.modules.comment || FULL_FUNCTIONALITY.dockerOutput) throw new Error();
 * ```
 */
export const FULL_FUNCTIONALITY: Functionality = {
  tables: { nat: true, raw: true, mangle: true },
  modules: { comment: true, conntrack: true, owner: true, multiport: true, tcp: true, udp: true },
  dockerOutput: false,
};
