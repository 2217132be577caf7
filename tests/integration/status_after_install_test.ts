/**
 * No false drift straight after a successful install (issue 21 item 5):
 * `install X; status X` exits 0 for options that iptables-save spells
 * differently or leaves out (`-i +`, `-d 0.0.0.0/0`), on both backends, and
 * for --store-firewalld, which stores nothing with --backend nftables.
 * Real CLI, real iptables and nft, firewalld in a private mount namespace.
 * Needs root and `ip netns`.
 */
import { assertEquals, assertStringIncludes } from "../assert.ts";
import { withNetns } from "../world/netns.ts";
import { withFirewalldHost } from "../world/firewalld_host.ts";
import { addIPv6, ensureKumaDp, runCli } from "./cli_run.ts";

const KUMA_DP = ["--kuma-dp-user", "5678"];

for (const backend of ["iptables", "nftables"]) {
  for (
    const flags of [
      ["--vnet", "+:10.0.0.0/8"],
      ["--vnet", "docker+:172.17.0.0/16,+:fd00:9::/64"],
      ["--exclude-outbound-ips", "0.0.0.0/0,::/0"],
      ["--exclude-inbound-ips", "0.0.0.0/0"],
    ]
  ) {
    Deno.test(`install then status: exit 0 for --backend ${backend} ${flags.join(" ")}`, async () => {
      await ensureKumaDp();
      await withNetns("fresh", async (ns) => {
        await addIPv6(ns);
        const args = ["--backend", backend, ...KUMA_DP, ...flags];
        const install = await runCli(["install", ...args], { netns: ns });
        assertEquals(install.code, 0, install.stdout + install.stderr);
        const status = await runCli(["status", ...args], { netns: ns });
        assertEquals(status.code, 0, status.stdout + status.stderr);
      });
    });
  }
}

const STORES: [string, boolean, string[]][] = [
  ["nftables", true, ["--store-firewalld"]],
  ["nftables", true, ["--store-firewalld", "--store-systemd"]],
  ["nftables", false, ["--store-firewalld"]],
  ["nftables", false, ["--store-firewalld", "--store-systemd"]],
  // Only the unit persists here (choice.ts): status must not expect firewalld to.
  ["iptables", false, ["--store-firewalld", "--store-systemd"]],
];
for (const [backend, installed, store] of STORES) {
  Deno.test({
    name: `install then status: exit 0 for --backend ${backend} ${store.join(" ")} (firewalld ${
      installed ? "stopped" : "absent"
    })`,
    sanitizeResources: false,
    sanitizeOps: false,
    fn: () =>
      withFirewalldHost({ installed }, async (h) => {
        await ensureKumaDp();
        const args = ["--backend", backend, ...KUMA_DP, ...store];
        const install = await h.cli(["install", ...args]);
        assertEquals(install.code, 0, install.stdout + install.stderr);
        assertStringIncludes(install.stderr, "--store-firewalld");
        const status = await h.cli(["status", ...args]);
        assertEquals(status.code, 0, status.stdout + status.stderr);
      }),
  });
}
