/**
 * Uninstall is the emergency path (issue 13 item 4): an unknown
 * `KUMA_TRANSPARENT_PROXY_*` variable, a typo key in a --config file, or a
 * direct.xml that cannot be parsed must not keep our kernel rules in place.
 * Config problems are warnings; a malformed direct.xml is left untouched and
 * named, with how to clean it by hand, and uninstall exits 1 because entries
 * of ours may remain in it.
 *
 * Needs root, `ip netns`, unshare/nsenter and firewalld (run with --allow-all).
 */
import { assert, assertEquals, assertStringIncludes } from "../assert.ts";
import { withFirewalldHost } from "../world/firewalld_host.ts";
import { type Netns, withNetns } from "../world/netns.ts";
import { addIPv6, ensureKumaDp, runCli } from "./cli_run.ts";
import { snapshot, tools } from "./iptables_fixtures.ts";

const KUMA_DP = ["--kuma-dp-user", "5678"];

async function ours(ns: Netns): Promise<boolean> {
  const text = await snapshot(ns, tools("nft", 4)) + await snapshot(ns, tools("nft", 6));
  return text.includes("KUMA_MESH");
}

Deno.test("uninstall warns about an unknown KUMA_TRANSPARENT_PROXY_* variable and a typo key, and removes the rules", async () => {
  await ensureKumaDp();
  const dir = await Deno.makeTempDir({ prefix: "ktp-emergency-" });
  try {
    const typo = `${dir}/tp.yaml`;
    await Deno.writeTextFile(typo, "redirect:\n  inbound:\n    excludPorts: [22]\n");
    await withNetns("emerg", async (ns) => {
      await addIPv6(ns);
      const env = { KUMA_TRANSPARENT_PROXY_REDIRECT_DNS_PROT: "53" };
      // install stays strict: it would act on the config.
      const strict = await runCli(["install", ...KUMA_DP], { netns: ns, env });
      assertEquals(strict.code, 2, strict.stderr);
      assertEquals(await ours(ns), false);

      for (
        const [what, args, options] of [
          ["unknown variable", [], { env }],
          ["typo key", ["--config", typo], {}],
        ] as const
      ) {
        const install = await runCli(["install", ...KUMA_DP], { netns: ns });
        assertEquals(install.code, 0, install.stderr);
        assert(await ours(ns), "installed");
        const u = await runCli(["uninstall", ...args], { netns: ns, ...options });
        assertEquals(u.code, 0, `${what}: ${u.stdout}${u.stderr}`);
        assertStringIncludes(u.stderr, "[WARNING]");
        assertStringIncludes(u.stderr, "uninstall ignores it and carries on");
        assertStringIncludes(
          u.stderr,
          what === "typo key"
            ? "redirect.inbound.excludPorts"
            : "KUMA_TRANSPARENT_PROXY_REDIRECT_DNS_PROT",
        );
        assertEquals(await ours(ns), false, `${what}: the rules are gone`);
      }
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name:
    "uninstall with a malformed direct.xml removes the kernel rules, leaves the file and says what remains",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withFirewalldHost({ rfc3964Ipv4: false }, async (h) => {
      const fw = h.firewalld;
      const install = await h.cli(["install"]);
      assertEquals(install.code, 0, install.stderr);
      assert(await ours(h.world.host), "installed");
      const malformed =
        `<?xml version="1.0"?>\n<direct>\n  <chain ipv="ipv4" table="nat" chain="KUMA_MESH_OUTBOUND"/>\n  <rule ipv="ipv4"\n`;
      await Deno.writeTextFile(fw.directXmlPath, malformed);

      const dry = await h.cli(["uninstall", "--dry-run"]);
      assertEquals(dry.code, 1, dry.stdout + dry.stderr);
      assertStringIncludes(dry.stderr, "/etc/firewalld/direct.xml cannot be parsed");

      const u = await h.cli(["uninstall"]);
      assertEquals(u.code, 1, u.stdout + u.stderr);
      assertStringIncludes(u.stdout, "IPv4 (nft): removed");
      assertStringIncludes(u.stdout, "IPv6 (nft): removed");
      assertStringIncludes(u.stderr, "/etc/firewalld/direct.xml cannot be parsed");
      assertStringIncludes(u.stderr, "left untouched");
      assertStringIncludes(u.stderr, "Edit it by hand");
      assertEquals(u.stderr.includes("    at "), false, `a stack trace:\n${u.stderr}`);
      assertEquals(await h.directXml(), malformed, "the file is left as it was");
      assertEquals(await ours(h.world.host), false, "the kernel rules are gone");
    }),
});
