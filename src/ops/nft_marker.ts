/**
 * The record that kuma-tproxy installed an nft table on this host since
 * boot: how a run without the nft command knows whether it can rule our
 * table out.
 *
 * Only nft can list an `inet` table: iptables-nft and ip6tables-nft see the
 * `ip` and `ip6` families only, ebtables and arptables theirs, and
 * nf_tables has no /proc interface. Without nft, then, nothing here can
 * look. The table lives in the kernel, so it dies at a reboot; so does
 * this file in /run (a tmpfs, like /run/kuma-tproxy.lock). An nftables
 * install writes it before the kernel changes; nothing removes it, since
 * it is host-wide and a table of ours may remain in another network
 * namespace. Without nft and with this file, our table may be there and
 * cannot be inspected: uninstall, status and an iptables install say so
 * and stop. Without nft and without it, no table of ours was installed
 * since boot by a kuma-tproxy that writes it (one applied by hand from
 * `--dry-run` needed nft then, and is not recorded).
 *
 * @module
 */
import { writeSyncedFile } from "../os/durable_file.ts";
import type { OpsIo } from "./io.ts";

/** Where the record lives: beside our lock, in /run. */
export const NFT_MARKER_PATH = "/run/kuma-tproxy.nft-installed";

const TEXT = "kuma-tproxy installed an nft table (inet kuma_mesh_transparent_proxy) on this host " +
  "since boot. Kept until reboot so that a run without the nft command knows that it cannot rule " +
  "that table out.\n";

/**
 * Records an nftables install; throws when the record cannot be written.
 * Written in place, not through a temporary name (scripts/permissions.txt
 * grants this one path in /run): only its existence is read, so a torn
 * write still records the install. Mode 0644 whatever the umask.
 */
export async function recordNftInstall(io: OpsIo): Promise<void> {
  await writeSyncedFile(io.nftMarkerPath, TEXT, { mode: 0o644 });
}

/** Whether an nftables install was recorded since boot. An unreadable /run counts as recorded. */
export async function nftInstallRecorded(io: OpsIo): Promise<boolean> {
  try {
    await Deno.lstat(io.nftMarkerPath);
    return true;
  } catch (e) {
    return !(e instanceof Deno.errors.NotFound);
  }
}
