/**
 * Which mechanism persists the rules when install is asked for
 * --store-firewalld, --store-systemd, or both, per backend: a pure decision,
 * so that every combination is unit-tested.
 *
 * @module
 */
import type { Backend } from "../config/types.ts";

/** firewalld on this host: on the system bus, only on disk (/etc/firewalld), or not at all. */
export type FirewalldPresence = "running" | "stopped" | "absent";

export interface PersistRequest {
  backend: Backend;
  storeFirewalld: boolean;
  storeSystemd: boolean;
  firewalld: FirewalldPresence;
}

export interface PersistChoice {
  /** Store the rules in firewalld's direct config (D-Bus or direct.xml). */
  firewalld: boolean;
  /** Write and enable kuma-tproxy.service with the stored config. */
  systemd: boolean;
  /**
   * Remove our unit if one is there: firewalld is chosen, and a unit from an
   * earlier --store-systemd would apply an older config behind its back at
   * every boot.
   */
  removeUnit: boolean;
  /** Why the choice differs from what was asked, for the user; absent when it does not. */
  note?: string;
}

/**
 * The decision:
 * - iptables, firewalld installed, both asked: firewalld only. It owns the
 *   iptables rules where it is installed: it flushes rules it does not own
 *   when it starts and reloads, and a unit re-applying them behind its back
 *   would leave firewalld unable to remove its own copies.
 * - iptables, no firewalld, both asked: systemd only (a config shared by
 *   hosts with and without firewalld persists on each).
 * - nftables: systemd when asked, never firewalld. Our nft table lives
 *   beside firewalld's; firewalld's direct interface is for iptables and does
 *   not store it. The note says what --store-firewalld did not do.
 * - one flag alone: as asked; --store-firewalld also removes a unit of ours
 *   (`removeUnit`), which would apply an older config behind firewalld's back.
 *
 * @example
 * ```ts
 * import { choosePersistence } from "./choice.ts";
 * const c = choosePersistence({
 *   backend: "iptables", storeFirewalld: true, storeSystemd: true, firewalld: "running",
 * });
 * if (!c.firewalld || c.systemd) throw new Error();
 * ```
 */
export function choosePersistence(request: PersistRequest): PersistChoice {
  const { backend, storeFirewalld, storeSystemd, firewalld } = request;
  if (backend === "nftables") {
    if (!storeFirewalld) return { firewalld: false, systemd: storeSystemd, removeUnit: false };
    return {
      firewalld: false,
      systemd: storeSystemd,
      removeUnit: false,
      note: storeSystemd
        ? "--store-firewalld is not needed with --backend nftables: firewalld's direct interface " +
          "stores iptables rules only; the systemd unit restores the nft table at boot"
        : "--store-firewalld does nothing with --backend nftables: firewalld's direct interface " +
          "stores iptables rules only; add --store-systemd to restore the nft table at boot",
    };
  }
  if (storeFirewalld && storeSystemd) {
    return firewalld === "absent"
      ? {
        firewalld: false,
        systemd: true,
        removeUnit: false,
        note: "--store-firewalld: firewalld is not installed, so only the systemd unit " +
          "restores the rules at boot",
      }
      : {
        firewalld: true,
        systemd: false,
        removeUnit: true,
        note: "--store-systemd: firewalld is installed and owns the iptables rules (it flushes " +
          "others when it starts), so the rules are stored in firewalld only and no systemd " +
          "unit is installed",
      };
  }
  return { firewalld: storeFirewalld, systemd: storeSystemd, removeUnit: storeFirewalld };
}
