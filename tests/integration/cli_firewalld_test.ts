/**
 * `--store-firewalld` end to end: the real CLI (scripts/kuma-tproxy) on a
 * host whose /etc/firewalld and system bus belong to a real firewalld 1.3 in
 * the traffic World's host namespace (../world/firewalld_host.ts), judged by
 * real traffic in both families: a peer connecting to the app must land on
 * the stand-in sidecar's 15006, the app connecting to the peer on 15001.
 *
 * firewalld.conf is stock except DefaultZone=trusted, and RFC3964_IPv4=no
 * where IPv6 is redirected (stock `yes` makes firewalld reject IPv6 traffic
 * redirected to ::1; firewalld F7, docs/firewalld.md#f7).
 *
 * Needs root, `ip netns`, unshare/nsenter and firewalld (run with --allow-all).
 */
import { assert, assertEquals, assertNotEquals, assertStringIncludes } from "../assert.ts";
import { type DirectEntry, isOurEntry } from "../../src/firewalld/direct_entries.ts";
import { directXmlEntries } from "../../src/firewalld/direct_xml.ts";
import type { FirewalldWorld } from "../world/firewalld.ts";
import { netfilter, ourCounts, withFirewalldHost } from "../world/firewalld_host.ts";
import { acceptsDnatOutput, assertDirect, assertRedirected } from "./firewalld_probes.ts";

const FOREIGN = Deno.readTextFileSync(
  new URL("../testdata/firewalld/foreign_valid.xml", import.meta.url),
);
const STORE = ["install", "--store-firewalld"];

/** Foreign entries as a sorted list of JSON strings (order between kinds is firewalld's business). */
const foreign = (entries: DirectEntry[]) =>
  entries.filter((e) => !isOurEntry(e)).map((e) => JSON.stringify(e)).sort();

/** The foreign entries of the permanent config, read over D-Bus. */
async function permanentForeign(fw: FirewalldWorld): Promise<string[]> {
  const bus = fw.connect();
  try {
    const p = await bus.getPermanent();
    return foreign([...p.chains, ...p.rules, ...p.passthroughs]);
  } finally {
    bus.close();
  }
}

/** Foreign runtime chains and rules (firewalld has no runtime passthrough listing by ipv here). */
async function runtimeForeign(fw: FirewalldWorld): Promise<string[]> {
  const bus = fw.connect();
  try {
    return foreign([...await bus.getRuntimeChains(), ...await bus.getRuntimeRules()]);
  } finally {
    bus.close();
  }
}

function assertOk(r: { code: number; stdout: string; stderr: string }, what: string) {
  assertEquals(r.code, 0, `${what} exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
}

Deno.test({
  name: "install --store-firewalld with firewalld running: effective, survives reload and reboot",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withFirewalldHost({ rfc3964Ipv4: false, directXml: FOREIGN }, async (h) => {
      const fw = h.firewalld;
      assertEquals(await fw.start(), "running");
      const foreignBefore = foreign(directXmlEntries(FOREIGN));
      assertEquals(await permanentForeign(fw), foreignBefore);

      const before = await netfilter(h);
      const dry = await h.cli([...STORE, "--dry-run"]);
      assertOk(dry, "install --dry-run");
      assertStringIncludes(
        dry.stdout,
        "### firewalld (firewalld permanent and runtime direct config, over D-Bus) ###",
      );
      for (const ipv of ["ipv4", "ipv6"]) {
        assertStringIncludes(
          dry.stdout,
          `<chain ipv="${ipv}" table="nat" chain="KUMA_MESH_OUTBOUND"/>`,
        );
        assertStringIncludes(dry.stdout, `<rule ipv="${ipv}" table="nat" chain="OUTPUT"`);
      }
      assertEquals(await ourCounts(fw), { permanent: 0, runtime: 0, directXml: 0 }, "dry run");
      assertEquals(await netfilter(h), before, "a dry run changes nothing");

      const install = await h.cli(STORE);
      assertOk(install, "install");
      assertStringIncludes(install.stdout, "firewalld (D-Bus): stored");
      await assertRedirected(h, [4, 6], "after install");
      const counts = await ourCounts(fw);
      assert(counts.permanent! > 0, `nothing stored: ${JSON.stringify(counts)}`);
      assertEquals(counts, {
        permanent: counts.permanent,
        runtime: counts.permanent,
        directXml: counts.permanent,
      });
      assertEquals(await permanentForeign(fw), foreignBefore, "foreign entries after install");

      const status = await h.cli(["status"]);
      assertEquals(status.code, 0, status.stdout + status.stderr);
      // Counted and worded as install counted what it stored.
      const stored = /stored (\d+) rules and (\d+) chains in the permanent/.exec(install.stdout);
      assert(stored, install.stdout);
      assertEquals(Number(stored[1]) + Number(stored[2]), counts.permanent);
      const n = `${stored[1]} rules and ${stored[2]} chains`;
      assertStringIncludes(
        status.stdout,
        `Persistence (firewalld, RUNNING): stored; permanent config: ${n}, ` +
          `runtime config: ${n}, direct.xml: ${n}`,
      );

      await fw.reload();
      await assertRedirected(h, [4, 6], "after firewall-cmd --reload");
      assertEquals(await fw.reboot(), "running");
      await assertRedirected(h, [4, 6], "after a simulated reboot");
      assertEquals(await ourCounts(fw), counts, "after a simulated reboot");

      // Behind our back: one of our rules goes from the permanent config only.
      const bus = fw.connect();
      const ours = (await bus.getPermanent()).rules.filter(isOurEntry);
      bus.close();
      const victim = ours[ours.length - 1];
      const removed = await fw.firewallCmd([
        "--permanent",
        "--direct",
        "--remove-rule",
        victim.ipv,
        victim.table,
        victim.chain,
        String(victim.priority),
        ...victim.args,
      ]);
      assertEquals(removed.code, 0, removed.stderr);
      const drift = await h.cli(["status"]);
      assertEquals(drift.code, 3, drift.stdout + drift.stderr);
      assertStringIncludes(drift.stdout, "stored, differs from config");

      const uninstall = await h.cli(["uninstall"]);
      assertOk(uninstall, "uninstall");
      await assertDirect(h, [4, 6], "after uninstall");
      assertEquals(await ourCounts(fw), { permanent: 0, runtime: 0, directXml: 0 });
      assertEquals(await permanentForeign(fw), foreignBefore, "foreign entries after uninstall");
      assertEquals(
        foreign(directXmlEntries((await h.directXml())!)),
        foreignBefore,
        "direct.xml after uninstall",
      );
      assertEquals(
        await runtimeForeign(fw),
        foreignBefore.filter((e) => !e.includes('"passthrough"')),
        "runtime after uninstall",
      );
      assertEquals((await netfilter(h)).includes("KUMA_MESH"), false);
    }),
});

Deno.test({
  name: "install --store-firewalld with firewalld stopped: direct.xml, applied at the next start",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withFirewalldHost({ rfc3964Ipv4: false, directXml: FOREIGN }, async (h) => {
      const fw = h.firewalld;
      const foreignBefore = foreign(directXmlEntries(FOREIGN));

      const install = await h.cli(STORE);
      assertOk(install, "install");
      assertStringIncludes(install.stdout, "firewalld (/etc/firewalld/direct.xml): stored");
      await assertRedirected(h, [4, 6], "stopped firewalld: applied to the kernel");
      const xml = (await h.directXml())!;
      assertEquals(foreign(directXmlEntries(xml)), foreignBefore);
      assertStringIncludes(xml, "<!-- sits between our inserted and appended OUTPUT rules -->");
      const { directXml: stored } = await ourCounts(fw);
      assert(stored! > 0, "nothing stored in direct.xml");

      assertEquals(await fw.start(), "running");
      await assertRedirected(h, [4, 6], "after firewalld started");
      assertEquals(await ourCounts(fw), { permanent: stored, runtime: stored, directXml: stored });

      // Uninstall with firewalld stopped: rules back in the kernel first
      // (firewalld flushed them on stop), then both go.
      await fw.stop();
      assertOk(await h.cli(STORE), "install again, stopped");
      await assertRedirected(h, [4, 6], "re-installed while stopped");
      const uninstall = await h.cli(["uninstall"]);
      assertOk(uninstall, "uninstall");
      assertStringIncludes(uninstall.stdout, `firewalld (/etc/firewalld/direct.xml): removed`);
      await assertDirect(h, [4, 6], "after uninstall, stopped");
      assertEquals(await h.directXml(), FOREIGN, "direct.xml is back to its foreign bytes");

      assertEquals(await fw.start(), "running");
      await assertDirect(h, [4, 6], "after firewalld started again");
      assertEquals(await ourCounts(fw), { permanent: 0, runtime: 0, directXml: 0 });
      assertEquals(
        await runtimeForeign(fw),
        foreignBefore.filter((e) => !e.includes("passthrough")),
      );
    }),
});

Deno.test({
  name:
    "install --store-firewalld refuses dual-stack under RFC3964_IPv4=yes (firewalld < 2.3) and malformed direct.xml",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withFirewalldHost({}, async (h) => {
      const fw = h.firewalld;
      // From 2.3 firewalld accepts redirected output first: cli_firewalld_rfc3964_test.ts.
      const refuses = !(await acceptsDnatOutput());
      // Stopped counts too: direct.xml would break IPv6 at firewalld's next start.
      const whileStopped = await netfilter(h);
      const refusedStopped = refuses ? await h.cli(STORE) : undefined;
      if (refusedStopped) {
        assertNotEquals(refusedStopped.code, 0, refusedStopped.stdout);
        assertStringIncludes(refusedStopped.stderr, "RFC3964_IPv4");
        assertEquals(await netfilter(h), whileStopped, "iptables after the refusal, stopped");
        assertEquals(await h.directXml(), null, "direct.xml after the refusal, stopped");
      }

      assertEquals(await fw.start(), "running");
      const before = await netfilter(h);
      const refused = refuses ? await h.cli(STORE) : undefined;
      if (refused) {
        assertNotEquals(refused.code, 0, refused.stdout);
        assertStringIncludes(refused.stderr, "RFC3964_IPv4");
        assertEquals(await netfilter(h), before, "iptables after the RFC3964 refusal");
        assertEquals(await ourCounts(fw), { permanent: 0, runtime: 0, directXml: null });
        assertEquals(await h.directXml(), null);
      }

      const v4 = await h.cli([...STORE, "--ip-family-mode", "ipv4"]);
      assertOk(v4, "install --ip-family-mode ipv4");
      await assertRedirected(h, [4], "IPv4 only under RFC3964_IPv4=yes");
      assertOk(await h.cli(["uninstall"]), "uninstall");
      await assertDirect(h, [4], "after uninstall");

      await fw.stop();
      const malformed = `<?xml version="1.0"?>\n<direct>\n  <rule ipv="ipv4" table="nat"\n`;
      await Deno.writeTextFile(fw.directXmlPath, malformed);
      const stopped = await netfilter(h);
      const bad = await h.cli([...STORE, "--ip-family-mode", "ipv4"]);
      assertNotEquals(bad.code, 0, bad.stdout);
      assertStringIncludes(bad.stderr, "/etc/firewalld/direct.xml");
      // The real place, quoted (xml2js said "Line: 0, Column: 24, Char: ").
      assertStringIncludes(
        bad.stderr,
        `is not valid direct.xml: line 3, column 3: the file ends inside the markup that starts ` +
          `here: "<rule ipv=\\"ipv4\\" table=\\"nat\\""`,
      );
      assertEquals(bad.stderr.includes("    at "), false, `a stack trace:\n${bad.stderr}`);
      assertEquals(await h.directXml(), malformed, "the malformed file is left as it was");
      assertEquals(await netfilter(h), stopped, "iptables after the malformed refusal");
    }),
});

Deno.test({
  name: "install --store-firewalld without firewalld or /etc/firewalld fails and changes nothing",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withFirewalldHost({ installed: false }, async (h) => {
      assertEquals((await h.inside("test", ["-e", "/etc/firewalld"])).code, 1, "no /etc/firewalld");
      const before = await netfilter(h);
      const r = await h.cli(STORE);
      assertNotEquals(r.code, 0, r.stdout);
      assertStringIncludes(r.stderr, "--store-firewalld: firewalld is neither running");
      assertStringIncludes(r.stderr, "Nothing was changed");
      assertEquals(await netfilter(h), before);
      assertEquals((await h.inside("test", ["-e", "/etc/firewalld"])).code, 1, "still none");
      await assertDirect(h, [4, 6], "nothing installed");
    }),
});
