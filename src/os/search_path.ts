/**
 * Where kuma-tproxy looks for the commands it runs (iptables, ip6tables,
 * nft) after PATH. Both backends search the same places, so the list lives
 * here, below them.
 *
 * @module
 */

/**
 * kumactl's fallback directories, searched after PATH, in order
 * ([docs/kumactl.md K3.1](../../docs/kumactl.md#k3-1)).
 *
 * @example
 * ```ts
 * import { DEFAULT_PATH_DIRS } from "./search_path.ts";
 * if (DEFAULT_PATH_DIRS[0] !== "/usr/sbin") throw new Error();
 * ```
 */
export const DEFAULT_PATH_DIRS: readonly string[] = ["/usr/sbin", "/sbin", "/usr/bin", "/bin"];
