/**
 * Ownership in firewalld through the real CLI (issue 14 item 1): foreign
 * direct entries that merely look like ours (a comment starting
 * `kuma/mesh/transparent/proxyX`, a chain `KUMA_MESHY` and the rules in and
 * to it) survive `install --store-firewalld` and `uninstall`, in firewalld's
 * permanent and runtime config while it runs and in direct.xml while it is
 * stopped. A real firewalld 1.3 on a private bus (../world/firewalld_host.ts).
 *
 * Needs root, `ip netns`, unshare/nsenter and firewalld (run with --allow-all).
 */
import { assertEquals } from "../assert.ts";
import { type DirectEntry, isOurEntry } from "../../src/firewalld/direct_entries.ts";
import { directXmlEntries } from "../../src/firewalld/direct_xml.ts";
import type { FirewalldWorld } from "../world/firewalld.ts";
import { withFirewalldHost } from "../world/firewalld_host.ts";

const LOOKALIKES = `<?xml version="1.0" encoding="utf-8"?>
<direct>
  <chain ipv="ipv4" table="nat" chain="KUMA_MESHY"/>
  <rule ipv="ipv4" table="nat" chain="OUTPUT" priority="0">-p tcp --dport 9999 -m comment --comment 'kuma/mesh/transparent/proxyX admin' -j RETURN</rule>
  <rule ipv="ipv4" table="nat" chain="OUTPUT" priority="0">-p tcp --dport 9997 -j KUMA_MESHY</rule>
  <rule ipv="ipv4" table="nat" chain="KUMA_MESHY" priority="0">-m comment --comment 'kuma/mesh/transparent/proxy' -j RETURN</rule>
</direct>
`;
const FOREIGN = directXmlEntries(LOOKALIKES);
const STORE = ["install", "--store-firewalld", "--ip-family-mode", "ipv4"];

const sorted = (entries: DirectEntry[]) => entries.map((e) => JSON.stringify(e)).sort();

async function permanentAndRuntime(fw: FirewalldWorld) {
  const bus = fw.connect();
  try {
    const p = await bus.getPermanent();
    return {
      permanent: sorted([...p.chains, ...p.rules]),
      runtime: sorted([...await bus.getRuntimeChains(), ...await bus.getRuntimeRules()]),
    };
  } finally {
    bus.close();
  }
}

Deno.test({
  name: "install --store-firewalld and uninstall keep foreign look-alike direct entries",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withFirewalldHost({ directXml: LOOKALIKES }, async (h) => {
      const fw = h.firewalld;
      // The predicate itself must not claim them, or the test below proves nothing.
      assertEquals(FOREIGN.filter(isOurEntry), []);
      assertEquals(await fw.start(), "running");
      const before = await permanentAndRuntime(fw);
      assertEquals(before.permanent, sorted(FOREIGN));

      const install = await h.cli(STORE);
      assertEquals(install.code, 0, install.stdout + install.stderr);
      const during = await permanentAndRuntime(fw);
      for (const e of before.permanent) {
        assertEquals(during.permanent.includes(e), true, `permanent lost ${e}`);
        assertEquals(during.runtime.includes(e), true, `runtime lost ${e}`);
      }
      const uninstall = await h.cli(["uninstall"]);
      assertEquals(uninstall.code, 0, uninstall.stdout + uninstall.stderr);
      assertEquals(await permanentAndRuntime(fw), before, "after uninstall, running");
      assertEquals(sorted(directXmlEntries((await h.directXml())!)), sorted(FOREIGN));

      // Stopped: direct.xml is edited by the tool itself.
      await fw.stop();
      await Deno.writeTextFile(fw.directXmlPath, LOOKALIKES);
      const stored = await h.cli(STORE);
      assertEquals(stored.code, 0, stored.stdout + stored.stderr);
      const removed = await h.cli(["uninstall"]);
      assertEquals(removed.code, 0, removed.stdout + removed.stderr);
      assertEquals(await h.directXml(), LOOKALIKES, "direct.xml is back to its foreign bytes");
    }),
});
