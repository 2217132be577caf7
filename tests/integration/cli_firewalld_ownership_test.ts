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
import { assertEquals, assertStringIncludes } from "../assert.ts";
import { type DirectEntry, isOurEntry } from "../../src/firewalld/direct_entries.ts";
import { directXmlEntries } from "../../src/firewalld/direct_xml.ts";
import type { FirewalldWorld } from "../world/firewalld.ts";
import { netfilter, withFirewalldHost } from "../world/firewalld_host.ts";

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

/** An admin's rule jumping to our chain: no comment of ours, in a chain not ours (issue 21 item 1). */
const ADMIN_JUMP =
  `<rule ipv="ipv4" table="nat" chain="PREROUTING" priority="-5">-p tcp --dport 28 -j KUMA_MESH_INBOUND</rule>`;
const ADMIN_ONLY = `<?xml version="1.0" encoding="utf-8"?>\n<direct>\n  ${ADMIN_JUMP}\n</direct>\n`;
/** How firewalld names it, as every refusal must. */
const NAMED = "rule ipv4 nat PREROUTING -5 -p tcp --dport 28 -j KUMA_MESH_INBOUND";

Deno.test({
  name: "an admin's direct rule jumping to our chain makes install and uninstall refuse, " +
    "firewalld stopped and running, and stays byte for byte",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withFirewalldHost({ directXml: ADMIN_ONLY }, async (h) => {
      const fw = h.firewalld;
      assertEquals(
        directXmlEntries(ADMIN_ONLY).filter(isOurEntry),
        [],
        "the admin's rule is not ours",
      );
      const refuses = async (args: string[], named = NAMED) => {
        const r = await h.cli(args);
        assertEquals(r.code, 1, `${args.join(" ")}: ${r.stdout}${r.stderr}`);
        assertStringIncludes(r.stderr, named, args.join(" "));
        assertEquals(r.stdout, "", `${args.join(" ")} reports no change`);
      };

      // Stopped, only the admin's rule in direct.xml (the case).
      const kernel = await netfilter(h);
      for (const args of [STORE, ["uninstall"], ["uninstall", "--dry-run"]]) {
        await refuses(args);
        assertEquals(
          await h.directXml(),
          ADMIN_ONLY,
          `${args.join(" ")} left direct.xml as it was`,
        );
        assertEquals(await netfilter(h), kernel, `${args.join(" ")} left the kernel as it was`);
      }

      // Stopped, our entries stored beside it: the admin's rule depends on our chain.
      await Deno.remove(fw.directXmlPath);
      const stored = await h.cli(STORE);
      assertEquals(stored.code, 0, stored.stdout + stored.stderr);
      const ours = (await h.directXml())!;
      const both = ours.replace("</direct>", `  ${ADMIN_JUMP}\n</direct>`);
      await Deno.writeTextFile(fw.directXmlPath, both);
      const installed = await netfilter(h);
      const plain = ["install", "--ip-family-mode", "ipv4"];
      const nft = ["install", "--backend", "nftables", "--ip-family-mode", "ipv4"];
      for (const args of [STORE, plain, nft, ["uninstall"]]) {
        await refuses(args);
        assertEquals(await h.directXml(), both, `${args.join(" ")} left direct.xml as it was`);
        assertEquals(await netfilter(h), installed, `${args.join(" ")} left the kernel as it was`);
      }

      // Running: firewalld applied both, permanent and runtime.
      assertEquals(await fw.start(), "running");
      const before = await permanentAndRuntime(fw);
      const admin = JSON.stringify(directXmlEntries(ADMIN_ONLY)[0]);
      assertEquals(before.permanent.includes(admin), true, "permanent holds the admin's rule");
      assertEquals(before.runtime.includes(admin), true, "runtime holds the admin's rule");
      for (const args of [STORE, ["uninstall"]]) {
        await refuses(args);
        assertEquals(await permanentAndRuntime(fw), before, `${args.join(" ")} changed firewalld`);
        assertEquals(await h.directXml(), both, `${args.join(" ")} left direct.xml as it was`);
      }
      // Without --store-firewalld the kernel's copy of the rule is found too;
      // either way the rule is named and nothing changes.
      await refuses(plain, "--dport 28");
      assertEquals(await permanentAndRuntime(fw), before, "install changed firewalld");
      await fw.stop();
    }),
});

Deno.test({
  name:
    "uninstall refuses an admin's kernel rule jumping to our chain before it touches direct.xml",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withFirewalldHost({}, async (h) => {
      const stored = await h.cli(STORE);
      assertEquals(stored.code, 0, stored.stdout + stored.stderr);
      const ours = await h.directXml();
      // The admin's rule is in the kernel only; firewalld is stopped.
      await h.world.host.exec("iptables", [
        "-t",
        "nat",
        "-I",
        "PREROUTING",
        "-p",
        "tcp",
        "--dport",
        "28",
        "-j",
        "KUMA_MESH_INBOUND",
      ]);
      const kernel = await netfilter(h);
      const r = await h.cli(["uninstall"]);
      assertEquals(r.code, 1, r.stdout + r.stderr);
      assertStringIncludes(r.stderr, "-A PREROUTING -p tcp -m tcp --dport 28 -j KUMA_MESH_INBOUND");
      assertEquals(r.stdout, "", "uninstall reports no change");
      assertEquals(await h.directXml(), ours, "direct.xml keeps our entries");
      assertEquals(await netfilter(h), kernel, "the kernel is as it was");
    }),
});
