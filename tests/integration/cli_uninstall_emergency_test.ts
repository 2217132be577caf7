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

const FOREIGN = Deno.readTextFileSync(
  new URL("../testdata/firewalld/foreign_valid.xml", import.meta.url),
);

function assertExit(
  r: { code: number; stdout: string; stderr: string },
  code: number,
  what: string,
) {
  assertEquals(r.code, code, `${what} exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
}

Deno.test({
  name:
    "uninstall with /etc/firewalld read-only or full removes the kernel rules and names what remains (issue 22 item 5)",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withFirewalldHost({ rfc3964Ipv4: false, directXml: FOREIGN }, async (h) => {
      const fw = h.firewalld;
      for (const how of ["read-only", "full"] as const) {
        const install = await h.cli(["install", "--store-firewalld"]);
        assertExit(install, 0, `${how}: install`);
        assert(await ours(h.world.host), "installed");
        const stored = await h.directXml();
        assertStringIncludes(stored!, "KUMA_MESH_");
        // Only inside the CLI's private mount namespace; the copy lives on a small tmpfs.
        await h.mnt.sh(
          how === "read-only" ? "mount -o remount,bind,ro /etc/firewalld" : `
            mount -t tmpfs -o size=256k tmpfs /etc/firewalld
            cp -a '${fw.configDir}/.' /etc/firewalld/
            dd if=/dev/zero of=/etc/firewalld/fill bs=4k 2>/dev/null || true`,
        );
        try {
          const u = await h.cli(["uninstall"]);
          assertExit(u, 1, `${how}: uninstall`);
          assertStringIncludes(u.stdout, "IPv4 (nft): removed");
          assertStringIncludes(u.stdout, "IPv6 (nft): removed");
          assertStringIncludes(
            u.stderr,
            how === "read-only" ? "Read-only file system" : "No space left on device",
          );
          assertStringIncludes(u.stderr, "uninstall is incomplete: removed from IPv4 (nft)");
          assertStringIncludes(u.stderr, "any of our entries in it remain");
          assertEquals(await ours(h.world.host), false, `${how}: the kernel rules are gone`);
        } finally {
          await h.mnt.sh(
            how === "read-only"
              ? "mount -o remount,bind,rw /etc/firewalld"
              : "umount /etc/firewalld",
          );
        }
        assertEquals(await h.directXml(), stored, `${how}: direct.xml is as it was`);
      }
      assertExit(await h.cli(["uninstall"]), 0, "uninstall once the file system is back");
      assertEquals((await h.directXml())?.includes("KUMA_MESH_"), false);
    }),
});

Deno.test({
  name:
    "a direct.xml that cannot be read: status exits 3, uninstall removes the kernel rules and exits 1 (issue 22 item 5)",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withFirewalldHost({ rfc3964Ipv4: false }, async (h) => {
      const path = h.firewalld.directXmlPath;
      const latin1 = new Uint8Array([
        ...new TextEncoder().encode(
          '<?xml version="1.0" encoding="ISO-8859-1"?>\n<direct>\n  <!-- caf',
        ),
        0xe9,
        ...new TextEncoder().encode(" -->\n</direct>\n"),
      ]);
      const kinds: [string, () => Promise<void>][] = [
        ["a directory", () => Deno.mkdir(path)],
        ["a FIFO", async () => {
          const out = await new Deno.Command("mkfifo", { args: [path] }).output();
          assert(out.success, "mkfifo");
        }],
        ["over 16 MiB", async () => {
          const f = await Deno.open(path, { write: true, create: true });
          await f.truncate(17 * 1024 * 1024);
          f.close();
        }],
        ["ISO-8859-1", () => Deno.writeFile(path, latin1)],
      ];
      for (const [what, make] of kinds) {
        assertExit(await h.cli(["install"]), 0, `${what}: install`);
        assertExit(await h.cli(["status"]), 0, `${what}: status before`);
        await make();
        try {
          const s = await h.cli(["status"]);
          assertExit(s, 3, `${what}: status`);
          assertStringIncludes(s.stdout, "Persistence (firewalld, stopped): unknown");
          assertStringIncludes(s.stdout, "cannot read /etc/firewalld/direct.xml");
          const u = await h.cli(["uninstall"]);
          assertExit(u, 1, `${what}: uninstall`);
          assertStringIncludes(u.stdout, "IPv4 (nft): removed");
          assertStringIncludes(u.stderr, "cannot read /etc/firewalld/direct.xml");
          assertStringIncludes(u.stderr, "any of our entries in it remain");
          assertEquals(u.stderr.includes("    at "), false, `a stack trace:\n${u.stderr}`);
          assertEquals(await ours(h.world.host), false, `${what}: the kernel rules are gone`);
        } finally {
          await Deno.remove(path, { recursive: true });
        }
      }
    }),
});

Deno.test({
  name:
    "uninstall goes on past odd boot paths, and past a boot unit it cannot remove (issue 22 item 5)",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withFirewalldHost({ installed: false }, async (h) => {
      const odd: [string, string, string][] = [
        [
          "a directory at the unit path",
          "mkdir /etc/systemd/system/kuma-tproxy.service",
          "rmdir /etc/systemd/system/kuma-tproxy.service",
        ],
        [
          "a directory at boot.yaml",
          "mkdir -p /etc/kuma-tproxy/boot.yaml",
          "rm -r /etc/kuma-tproxy",
        ],
        ["/etc/kuma-tproxy a file", "echo x > /etc/kuma-tproxy", "rm /etc/kuma-tproxy"],
      ];
      for (const [what, make, undo] of odd) {
        assertExit(await h.cli(["install"]), 0, `${what}: install`);
        await h.mnt.sh(make);
        try {
          const u = await h.cli(["uninstall"]);
          assertExit(u, 0, `${what}: uninstall`);
          assertStringIncludes(u.stdout, "IPv4 (nft): removed");
          assertEquals(await ours(h.world.host), false, `${what}: the kernel rules are gone`);
        } finally {
          await h.mnt.sh(undo);
        }
      }

      assertExit(await h.cli(["install", "--store-systemd"]), 0, "install --store-systemd");
      await h.mnt.sh("mount -o remount,ro /etc/systemd/system");
      try {
        const u = await h.cli(["uninstall"]);
        assertExit(u, 1, "uninstall, unit directory read-only");
        assertStringIncludes(u.stdout, "IPv4 (nft): removed");
        assertStringIncludes(u.stderr, "Read-only file system");
        assertStringIncludes(u.stderr, "applies the rules again at the next boot");
        assertEquals(await ours(h.world.host), false, "the kernel rules are gone");
      } finally {
        await h.mnt.sh("mount -o remount,rw /etc/systemd/system");
      }
      const again = await h.cli(["uninstall"]);
      assertExit(again, 0, "uninstall once the unit directory is writable");
      assertStringIncludes(
        again.stdout,
        "systemd: removed /etc/systemd/system/kuma-tproxy.service",
      );
    }),
});
