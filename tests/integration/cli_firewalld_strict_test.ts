/**
 * firewalld 2.3+'s `StrictForwardPorts=yes` rejects every DNAT'd inbound
 * connection that is not one of its own forward-ports, and REDIRECT is a
 * DNAT (firewalld F13, docs/firewalld.md#f13). The test shows it with real
 * traffic, then that install refuses before changing anything, with both
 * backends and with --store-firewalld. Before 2.3 firewalld ignores the
 * key: there the test asserts that the redirect still works and install
 * goes ahead.
 *
 * Needs root, `ip netns`, unshare/nsenter and firewalld (run with --allow-all).
 */
import { assertEquals, assertNotEquals, assertStringIncludes } from "../assert.ts";
import { type FirewalldHost, withFirewalldHost } from "../world/firewalld_host.ts";
import { firewalldVersion } from "../world/firewalld.ts";
import { PORTS, sidecarReply } from "../world/world.ts";
import { assertRedirected, probe } from "./firewalld_probes.ts";

const V4 = ["--kuma-dp-user", "5678", "--ip-family-mode", "ipv4"];

/** firewalld's version, from its Python package (firewall-cmd --version needs the bus). */
/** firewalld 2.3 added StrictForwardPorts; before it, the key is ignored. */
async function knowsStrict(): Promise<boolean> {
  const [major, minor] = await firewalldVersion();
  return major > 2 || (major === 2 && minor >= 3);
}

async function setStrict(h: FirewalldHost, value: "yes" | "no"): Promise<void> {
  const path = h.firewalld.firewalldConfPath;
  const conf = (await Deno.readTextFile(path)).replace(/^StrictForwardPorts=.*\n?/m, "");
  await Deno.writeTextFile(path, `${conf.trimEnd()}\nStrictForwardPorts=${value}\n`);
}

/** iptables of both families and nft, without counters. */
async function kernel(h: FirewalldHost): Promise<string> {
  const host = h.world.host;
  return [
    await host.exec("iptables-save", []),
    await host.exec("ip6tables-save", []),
    await host.exec("nft", ["list", "ruleset"]),
  ].join("\n").split("\n").filter((l) => !l.startsWith("#"))
    .map((l) => l.replace(/\[\d+:\d+\]/, "").replace(/counter packets \d+ bytes \d+/, "counter"))
    .join("\n");
}

Deno.test({
  name: "StrictForwardPorts=yes rejects redirected inbound connections (2.3+): install refuses " +
    "before changing anything, with both backends",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withFirewalldHost({}, async (h) => {
      const fw = h.firewalld;
      const strict = await knowsStrict();
      assertEquals(await fw.start(), "running");
      const nft = await h.cli(["install", "--backend", "nftables", ...V4]);
      assertEquals(nft.code, 0, nft.stderr);
      await assertRedirected(h, [4], "StrictForwardPorts=no");

      await setStrict(h, "yes");
      await fw.reload();
      const w = h.world;
      const [inbound] = await probe(h, 4);
      if (strict) {
        // The behaviour itself: firewalld rejects what we redirect inbound.
        assertNotEquals(
          inbound,
          sidecarReply(PORTS.inbound, w.addr("host", 4), PORTS.hostApp),
          "StrictForwardPorts=yes let a redirected inbound connection through",
        );
        const before = await kernel(h);
        for (
          const args of [
            ["install", "--backend", "nftables", ...V4],
            ["install", ...V4],
            ["install", "--store-firewalld", ...V4],
          ]
        ) {
          const r = await h.cli(args);
          assertEquals(r.code, 1, `${args.join(" ")}:\n${r.stdout}\n${r.stderr}`);
          assertStringIncludes(r.stderr, "StrictForwardPorts=yes");
          assertStringIncludes(r.stderr, "Nothing was changed.");
          assertEquals(await kernel(h), before, `${args.join(" ")} changed the rules`);
        }
        // Without inbound redirection there is nothing for it to reject.
        const outboundOnly = await h.cli([
          "install",
          "--backend",
          "nftables",
          "--redirect-inbound=false",
          ...V4,
        ]);
        assertEquals(outboundOnly.code, 0, outboundOnly.stderr);
        // Stopped, firewalld applies the setting at its next start: both backends say so.
        await fw.stop();
        for (const args of [["install", "--backend", "nftables", ...V4], ["install", ...V4]]) {
          const r = await h.cli(args);
          assertEquals(r.code, 0, `${args.join(" ")}:\n${r.stdout}\n${r.stderr}`);
          assertStringIncludes(r.stderr, "StrictForwardPorts=yes");
          assertStringIncludes(r.stderr, "(at its next start)");
        }
        assertEquals(await fw.start(), "running");
      } else {
        // Before 2.3 firewalld ignores the key.
        assertEquals(inbound, sidecarReply(PORTS.inbound, w.addr("host", 4), PORTS.hostApp));
        const again = await h.cli(["install", "--backend", "nftables", ...V4]);
        assertEquals(again.code, 0, again.stderr);
      }
      const un = await h.cli(["uninstall"]);
      assertEquals(un.code, 0, un.stderr);
    }),
});
