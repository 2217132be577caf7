/**
 * `--backend nftables` beside a real firewalld (both FirewallBackend
 * values) on its own bus (../world/firewalld_host.ts), judged by real traffic
 * in both families. firewalld deletes and rebuilds only its own tables
 * (firewalld F10, docs/firewalld.md#f10), so our inet table must survive
 * `--reload`, `--complete-reload` and a restart, and firewalld's filtering
 * must still apply to what we redirect (F11).
 *
 * Needs root, `ip netns`, unshare/nsenter and firewalld (run with --allow-all).
 */
import { assertEquals, assertNotEquals, assertStringIncludes } from "../assert.ts";
import { type FirewalldHost, withFirewalldHost } from "../world/firewalld_host.ts";
import { APP_UID, NAMES, PORTS, sidecarReply } from "../world/world.ts";
import { acceptsDnatOutput, assertRedirected, probe } from "./firewalld_probes.ts";

const INSTALL = ["install", "--backend", "nftables", "--kuma-dp-user", "5678"];

/** The nft ruleset without our table, one table a block, sorted, counters zeroed (firewalld's iptables backend counts). */
async function othersTables(h: FirewalldHost): Promise<string> {
  const text = (await h.world.host.exec("nft", ["list", "ruleset"]))
    .replace(/counter packets \d+ bytes \d+/g, "counter");
  return text.split(/\n(?=table )/).map((t) => t.trimEnd())
    .filter((t) => t !== "" && !t.startsWith("table inet kuma_mesh_transparent_proxy {"))
    .sort().join("\n");
}

/**
 * Whether a failed `--complete-reload` is firewalld 0.9's on a kernel without
 * loadable modules: firewall/core/modules.py `loaded_modules()` opens
 * /proc/modules unguarded in 0.9 (1.x catches the error).
 */
async function noModules(stderr: string): Promise<boolean> {
  const absent = await Deno.stat("/proc/modules").then(() => false, () => true);
  return absent && stderr.includes("No such file or directory: '/proc/modules'");
}

function assertOk(r: { code: number; stdout: string; stderr: string }, what: string) {
  assertEquals(r.code, 0, `${what} exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
}

for (const backend of ["nftables", "iptables"] as const) {
  Deno.test({
    name: `nftables backend beside firewalld (FirewallBackend=${backend}): survives reload, ` +
      "complete-reload and restart; firewalld still filters redirected traffic",
    sanitizeResources: false,
    sanitizeOps: false,
    fn: () =>
      withFirewalldHost({ rfc3964Ipv4: false, firewallBackend: backend }, async (h) => {
        const fw = h.firewalld;
        assertEquals(await fw.start(), "running");
        const firewalldOwn = await othersTables(h);
        const install = await h.cli(INSTALL);
        assertOk(install, "install");
        // No firewalld warning: its reloads leave our table alone.
        assertEquals(install.stderr.includes("--store-firewalld"), false, install.stderr);
        assertEquals(await othersTables(h), firewalldOwn, "firewalld's tables after install");
        await assertRedirected(h, [4, 6], "after install");

        await fw.reload();
        await assertRedirected(h, [4, 6], "after firewall-cmd --reload");
        const complete = await fw.firewallCmd(["--complete-reload"]);
        if (complete.code !== 0 && await noModules(complete.stderr)) {
          // firewalld 0.9 (Debian 11) reads /proc/modules on a complete reload
          // to unload its helpers, and fails midway, its own rules flushed,
          // on a kernel without loadable modules (no /proc/modules). Our
          // table must survive even that; a restart brings firewalld back.
          console.log("  firewalld --complete-reload failed: this kernel has no /proc/modules");
          await assertRedirected(h, [4, 6], "after a failed firewall-cmd --complete-reload");
          await fw.stop();
          assertEquals(await fw.start(), "running");
        } else {
          assertEquals(complete.code, 0, complete.stderr);
        }
        await assertRedirected(h, [4, 6], "after firewall-cmd --complete-reload");
        await fw.stop();
        assertEquals(await fw.start(), "running");
        await assertRedirected(h, [4, 6], "after a firewalld restart");
        const status = await h.cli(["status", ...INSTALL.slice(1)]);
        assertOk(status, "status");

        // firewalld's own filtering sees redirected traffic, by its new
        // destination: a policy from the host rejecting 127.0.0.1:15001
        // stops the app's redirected connection. (Inbound, firewalld accepts
        // `ct status dnat` before its zones, for any REDIRECT: a zone cannot
        // drop what either backend redirected to the sidecar.)
        const policy = ["--permanent", "--policy=ktpout"];
        for (
          const args of [
            ["--permanent", "--new-policy=ktpout"],
            [...policy, "--add-ingress-zone=HOST"],
            [...policy, "--add-egress-zone=ANY"],
            [
              ...policy,
              '--add-rich-rule=rule family="ipv4" destination address="127.0.0.1" ' +
              'port port="15001" protocol="tcp" reject',
            ],
          ]
        ) {
          const r = await fw.firewallCmd(args);
          assertEquals(r.code, 0, `firewall-cmd ${args.join(" ")}: ${r.stderr}`);
        }
        await fw.reload();
        const w = h.world;
        const outcome = await w.connect("host", APP_UID, w.addr("peer", 4), PORTS.peerService);
        if (await acceptsDnatOutput()) {
          // firewalld 2.3+ accepts DNAT'ed output before its policies (F11).
          assertEquals(
            outcome,
            sidecarReply(PORTS.outbound, w.addr("peer", 4), PORTS.peerService),
            "firewalld 2.3+ accepts the redirected connection before its policies",
          );
        } else {
          assertStringIncludes(outcome, "error", "firewalld's policy did not see the redirect");
        }
        const removed = await fw.firewallCmd(["--permanent", "--delete-policy=ktpout"]);
        assertEquals(removed.code, 0, removed.stderr);
        await fw.reload();
        await assertRedirected(h, [4, 6], "after the policy is gone");

        const before = await othersTables(h);
        assertOk(await h.cli(["uninstall"]), "uninstall");
        assertEquals(await othersTables(h), before, "firewalld's tables after uninstall");
        assertEquals(await probe(h, 4), [NAMES.hostApp, NAMES.peerService], "after uninstall");
      }),
  });
}

Deno.test({
  name:
    "nftables backend: RFC3964_IPv4=yes refuses dual-stack (firewalld < 2.3); --store-firewalld stores nothing in firewalld and says why",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withFirewalldHost({}, async (h) => {
      assertEquals(await h.firewalld.start(), "running");
      const before = await othersTables(h);
      // From 2.3 firewalld accepts redirected output first: cli_firewalld_rfc3964_test.ts.
      if (!(await acceptsDnatOutput())) {
        const refused = await h.cli(INSTALL);
        assertNotEquals(refused.code, 0, refused.stdout);
        assertStringIncludes(refused.stderr, "RFC3964_IPv4");
        assertEquals(
          await h.world.host.exec("nft", ["list", "tables"]).then((t) => t.includes("kuma_mesh")),
          false,
        );
        assertEquals(await othersTables(h), before);
      }
      const stored = await h.cli([...INSTALL, "--store-firewalld", "--ip-family-mode", "ipv4"]);
      assertOk(stored, "install --store-firewalld --ip-family-mode ipv4");
      assertStringIncludes(stored.stderr, "--store-firewalld does nothing with --backend nftables");
      assertStringIncludes(stored.stderr, "--store-systemd");
      const direct = await h.firewalld.firewallCmd(["--permanent", "--direct", "--get-all-rules"]);
      assertEquals(direct.stdout.includes("kuma/mesh/transparent/proxy"), false, direct.stdout);
      assertEquals(await othersTables(h), before, "firewalld's tables");
      await assertRedirected(h, [4], "IPv4 only");
      const v4 = await h.cli([...INSTALL, "--ip-family-mode", "ipv4"]);
      assertOk(v4, "install --ip-family-mode ipv4");
      assertOk(await h.cli(["uninstall"]), "uninstall");
    }),
});

Deno.test({
  name:
    "nftables backend after --store-firewalld: our firewalld entries go too, so a reload brings no iptables rules back",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withFirewalldHost({ rfc3964Ipv4: false }, async (h) => {
      const fw = h.firewalld;
      assertEquals(await fw.start(), "running");
      assertOk(await h.cli(["install", "--store-firewalld", "--kuma-dp-user", "5678"]), "store");
      const nft = await h.cli(INSTALL);
      assertOk(nft, "install --backend nftables");
      assertStringIncludes(nft.stdout, "firewalld (D-Bus): removed");
      await fw.reload();
      for (const cmd of ["iptables-save", "ip6tables-save"]) {
        const save = await h.world.host.exec(cmd, []);
        assertEquals(save.includes("KUMA_MESH"), false, `${cmd} after reload:\n${save}`);
      }
      const listed = await fw.firewallCmd(["--permanent", "--direct", "--get-all-rules"]);
      assertEquals(listed.stdout.includes("kuma/mesh/transparent/proxy"), false, listed.stdout);
      await assertRedirected(h, [4, 6], "after switching and a reload");
      assertOk(await h.cli(["uninstall"]), "uninstall");
    }),
});
