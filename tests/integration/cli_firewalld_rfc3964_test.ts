/**
 * firewalld's stock `RFC3964_IPv4=yes` and a dual-stack install, through the
 * real CLI, with firewalld stopped and running and with both backends.
 * Before 2.3, firewalld's `filter_OUTPUT` rejects IPv6 redirected to `::1`
 * (firewalld F7, docs/firewalld.md#f7), so install refuses and changes
 * nothing. From 2.3 with the stock `StrictForwardPorts=no`, `filter_OUTPUT`
 * accepts `ct status dnat` before that reject (F11, commit 2bcab5a7), so
 * install goes ahead and IPv6 is redirected both ways; the test proves it
 * with real traffic.
 *
 * Needs root, `ip netns`, unshare/nsenter and firewalld (run with --allow-all).
 */
import { assertEquals, assertNotEquals, assertStringIncludes } from "../assert.ts";
import { type FirewalldHost, netfilter, withFirewalldHost } from "../world/firewalld_host.ts";
import { acceptsDnatOutput, assertDirect, assertRedirected } from "./firewalld_probes.ts";

const USER = ["--kuma-dp-user", "5678"];

/** iptables of both families and the nft ruleset, counters zeroed. */
async function kernel(h: FirewalldHost): Promise<string> {
  const nft = await h.world.host.exec("nft", ["list", "ruleset"]);
  return `${await netfilter(h)}\n${nft.replace(/counter packets \d+ bytes \d+/g, "counter")}`;
}

function assertOk(r: { code: number; stdout: string; stderr: string }, what: string) {
  assertEquals(r.code, 0, `${what} exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
}

/** Runs `args`; on 2.3+ it must succeed, before 2.3 refuse naming RFC3964_IPv4 and change nothing. */
async function installOrRefusal(h: FirewalldHost, args: string[]): Promise<boolean> {
  const works = await acceptsDnatOutput();
  const before = await kernel(h);
  const directXml = await h.directXml();
  const r = await h.cli(args);
  if (works) {
    assertOk(r, args.join(" "));
    assertEquals(r.stderr.includes("RFC3964_IPv4"), false, r.stderr);
    return true;
  }
  assertNotEquals(r.code, 0, `${args.join(" ")}:\n${r.stdout}`);
  assertStringIncludes(r.stderr, "RFC3964_IPv4");
  assertStringIncludes(r.stderr, "Nothing was changed.");
  assertEquals(await kernel(h), before, `${args.join(" ")} changed the rules`);
  assertEquals(await h.directXml(), directXml, `${args.join(" ")} changed direct.xml`);
  return false;
}

Deno.test({
  name: "dual-stack install under the stock RFC3964_IPv4=yes: refused before firewalld 2.3, " +
    "redirects IPv6 from 2.3 (firewalld stopped, then running, both backends)",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withFirewalldHost({}, async (h) => {
      const fw = h.firewalld;
      // Stopped: direct.xml is what firewalld loads at its next start.
      if (await installOrRefusal(h, ["install", "--store-firewalld", ...USER])) {
        assertStringIncludes((await h.directXml())!, "kuma/mesh/transparent/proxy");
        assertEquals(await fw.start(), "running");
        await assertRedirected(h, [4, 6], "--store-firewalld, after firewalld started");
        assertOk(await h.cli(["uninstall"]), "uninstall");
        await assertDirect(h, [4, 6], "after uninstall");
      } else {
        assertEquals(await fw.start(), "running");
      }

      // Running: both backends check firewalld's output chain.
      for (
        const args of [
          ["install", "--store-firewalld", ...USER],
          ["install", "--backend", "nftables", ...USER],
        ]
      ) {
        if (await installOrRefusal(h, args)) {
          await assertRedirected(h, [4, 6], args.join(" "));
          await fw.reload();
          await assertRedirected(h, [4, 6], `${args.join(" ")}, after firewall-cmd --reload`);
          assertOk(await h.cli(["uninstall"]), "uninstall");
          await assertDirect(h, [4, 6], `after uninstall (${args.join(" ")})`);
        }
      }
    }),
});
