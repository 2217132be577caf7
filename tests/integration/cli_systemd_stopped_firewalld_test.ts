/**
 * iptables rules that only our boot unit restores, on a host where firewalld
 * is installed but stopped (issue 22 item 8): where a firewalld start flushes
 * iptables (0.9, 1.x), install and status warn, and it does; where it leaves
 * them alone (2.x with an empty direct config, docs/firewalld.md#f12), there
 * is no warning and the rules survive the start. The nftables backend's table
 * survives the start either way, and gets no warning.
 *
 * Needs root, `ip netns`, unshare/nsenter and firewalld (run with --allow-all).
 */
import { assert, assertEquals, assertStringIncludes } from "../assert.ts";
import { netfilter, withFirewalldHost } from "../world/firewalld_host.ts";

const WARNING = "# [WARNING] firewalld is installed but not running: when it starts it flushes " +
  "iptables, and these rules with it";

Deno.test({
  name:
    "--store-systemd with firewalld installed but stopped: the iptables backend is warned about, nftables is not",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withFirewalldHost({ rfc3964Ipv4: false }, async (h) => {
      const fw = h.firewalld;
      const spares = await fw.sparesIptablesWithoutDirect();
      const install = await h.cli(["install", "--store-systemd"]);
      assertEquals(install.code, 0, install.stdout + install.stderr);
      const status = await h.cli(["status", "--store-systemd"]);
      assertEquals(status.code, 0, status.stdout + status.stderr);
      if (spares) {
        assertEquals(install.stderr.includes(WARNING), false, install.stderr);
        assertEquals(status.stderr.includes(WARNING), false, status.stderr);
      } else {
        assertStringIncludes(install.stderr, WARNING);
        assertStringIncludes(install.stderr, "Use --backend nftables");
        assertStringIncludes(status.stderr, WARNING);
      }

      // What the warning says, or its absence: a firewalld start takes the rules away or not.
      assertEquals(await fw.start(), "running");
      assertEquals((await netfilter(h)).includes("KUMA_MESH"), spares, "firewalld flushed them");
      const after = await h.cli(["status", "--store-systemd"]);
      assertEquals(after.code, spares ? 0 : 4, after.stdout + after.stderr);
      await fw.stop();

      assertEquals((await h.cli(["uninstall"])).code, 0);
      const nft = await h.cli(["install", "--backend", "nftables", "--store-systemd"]);
      assertEquals(nft.code, 0, nft.stdout + nft.stderr);
      assertEquals(
        nft.stderr.includes("firewalld is installed but not running"),
        false,
        nft.stderr,
      );
      const nftStatus = await h.cli(["status", "--backend", "nftables", "--store-systemd"]);
      assertEquals(nftStatus.code, 0, nftStatus.stdout + nftStatus.stderr);
      assertEquals(nftStatus.stderr.includes("firewalld is installed but not running"), false);
      assertEquals(await fw.start(), "running");
      const started = await h.cli(["status", "--backend", "nftables", "--store-systemd"]);
      assertEquals(started.code, 0, started.stdout + started.stderr);
      assert(started.stdout.includes("matches config"), started.stdout);
    }),
});
