/**
 * What `--store-firewalld` does when the host fails under it, and what an
 * install without it does to what an earlier one stored: the real CLI on a
 * host whose /etc/firewalld and system bus belong to a real firewalld 1.3
 * (../world/firewalld_host.ts), judged by the kernel's rules, firewalld's
 * config over D-Bus and direct.xml on disk (issues 13 and 14).
 *
 * Needs root, `ip netns`, unshare/nsenter, chattr and firewalld (run with --allow-all).
 */
import { assert, assertEquals, assertNotEquals, assertStringIncludes } from "../assert.ts";
import { isOurEntry } from "../../src/firewalld/direct_entries.ts";
import { directXmlEntries } from "../../src/firewalld/direct_xml.ts";
import type { FirewalldWorld } from "../world/firewalld.ts";
import { netfilter, ourCounts, withFirewalldHost } from "../world/firewalld_host.ts";
import { acceptsDnatOutput } from "./firewalld_probes.ts";

const FOREIGN = Deno.readTextFileSync(
  new URL("../testdata/firewalld/foreign_valid.xml", import.meta.url),
);
const STORE = ["install", "--store-firewalld"];
const decoder = new TextDecoder();
const test = (name: string, fn: () => Promise<void>) =>
  Deno.test({ name, sanitizeResources: false, sanitizeOps: false, fn });

/** Foreign entries of a direct.xml text, as sorted JSON (firewalld rewrites the file in its own layout). */
const foreignOf = (xml: string) =>
  directXmlEntries(xml).filter((e) => !isOurEntry(e)).map((e) => JSON.stringify(e)).sort();

function assertOk(r: { code: number; stdout: string; stderr: string }, what: string) {
  assertEquals(r.code, 0, `${what} exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
}

/** The names in firewalld's config dir (what /etc/firewalld holds). */
async function configFiles(fw: FirewalldWorld): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(fw.configDir)) names.push(e.name);
  return names.sort();
}

async function chattr(path: string, flag: string): Promise<void> {
  const out = await new Deno.Command("chattr", { args: [flag, path], stderr: "piped" }).output();
  if (!out.success) throw new Error(`chattr ${flag} ${path}: ${decoder.decode(out.stderr)}`);
}

test("install --store-firewalld, firewalld stopped: an immutable or symlinked direct.xml is refused before the kernel changes", () =>
  withFirewalldHost({ directXml: FOREIGN }, async (h) => {
    const fw = h.firewalld;
    // The config dir lives in a temp dir on the machine's disk (ext4 here): chattr works there.
    await chattr(fw.directXmlPath, "+i");
    try {
      const before = await netfilter(h);
      const r = await h.cli([...STORE, "--ip-family-mode", "ipv4"]);
      assertEquals(r.code, 1, r.stdout + r.stderr);
      assertStringIncludes(
        r.stderr,
        "kuma-tproxy: cannot write /etc/firewalld/direct.xml (checked before changing anything): ",
      );
      assertStringIncludes(r.stderr, "Nothing was changed.");
      assertEquals(await netfilter(h), before, "the kernel is untouched");
    } finally {
      await chattr(fw.directXmlPath, "-i");
    }
    assertEquals(await h.directXml(), FOREIGN);

    // A symlink to a file outside /etc/firewalld: refused, link and target untouched.
    const outside = `${fw.dir}/outside-direct.xml`;
    await Deno.rename(fw.directXmlPath, outside);
    await Deno.symlink(outside, fw.directXmlPath);
    const before = await netfilter(h);
    const r = await h.cli([...STORE, "--ip-family-mode", "ipv4"]);
    assertEquals(r.code, 1, r.stdout + r.stderr);
    assertStringIncludes(
      r.stderr,
      `kuma-tproxy: /etc/firewalld/direct.xml is a symbolic link to ${outside}; kuma-tproxy ` +
        "neither writes through it nor replaces it.",
    );
    assertEquals(await netfilter(h), before, "the kernel is untouched");
    assert((await Deno.lstat(fw.directXmlPath)).isSymlink, "the link stays");
    assertEquals(await Deno.readTextFile(outside), FOREIGN, "the target stays");

    // An install without --store-firewalld that must remove our old entries from it: refused too.
    const stale = FOREIGN.replace(
      "</direct>",
      `  <chain ipv="ipv4" table="nat" chain="KUMA_MESH_OUTBOUND"/>\n</direct>`,
    );
    await Deno.writeTextFile(outside, stale);
    const plain = await h.cli(["install", "--ip-family-mode", "ipv4"]);
    assertEquals(plain.code, 1, plain.stdout + plain.stderr);
    assertStringIncludes(
      plain.stderr,
      "kuma-tproxy: /etc/firewalld/direct.xml holds entries of ours from an earlier " +
        "--store-firewalld, which would bring that rule set back at firewalld's next start, so " +
        `install must remove them, but: /etc/firewalld/direct.xml is a symbolic link to ${outside}`,
    );
    assertEquals(await netfilter(h), before, "the kernel is untouched");
    assertEquals(await Deno.readTextFile(outside), stale);
  }));

test("install --store-firewalld, firewalld stopped: a write that fails after the apply rolls the kernel back", () =>
  withFirewalldHost({ directXml: FOREIGN }, async (h) => {
    assertOk(await h.cli([...STORE, "--ip-family-mode", "ipv4"]), "first install");
    const installed = await netfilter(h);
    assertStringIncludes(installed, "KUMA_MESH_OUTBOUND");
    const xml = (await h.directXml())!;
    // A full disk: the check beforehand can create the (empty) temporary
    // file, but writing the new direct.xml fails with ENOSPC after the apply.
    const full = `${h.firewalld.dir}/full`;
    await Deno.mkdir(full);
    await h.mnt.sh(`
      mount -t tmpfs -o size=64k tmpfs '${full}'
      cp -a /etc/firewalld/. '${full}/'
      mount --bind '${full}' /etc/firewalld
      dd if=/dev/zero of=/etc/firewalld/filler bs=4k 2>/dev/null || true`);
    const r = await h.cli([
      ...STORE,
      "--ip-family-mode",
      "ipv4",
      "--redirect-outbound-port",
      "15002",
    ]);
    assertEquals(r.code, 1, r.stdout + r.stderr);
    assertStringIncludes(
      r.stderr,
      "the rules were applied, but storing them failed (cannot write /etc/firewalld/direct.xml: " +
        "No space left on device",
    );
    assertStringIncludes(
      r.stderr,
      "so the kernel was rolled back to the rules it had before; IPv4 rolled back to its prior state",
    );
    assertEquals(await netfilter(h), installed, "the first install's rules, exactly");
    const inside = await h.inside("cat", ["/etc/firewalld/direct.xml"]);
    assertEquals(inside.stdout, xml, "direct.xml as the first install left it");
  }));

test("install --store-firewalld with firewalld killed mid-store: permanent config restored through direct.xml, kernel rolled back", () =>
  withFirewalldHost({ rfc3964Ipv4: false, directXml: FOREIGN }, async (h) => {
    const fw = h.firewalld;
    assertEquals(await fw.start(), "running");
    const foreignBefore = foreignOf(FOREIGN);
    const child = h.spawnCli(STORE);
    // The marker: firewalld rewrites direct.xml when the permanent config is
    // updated (config.direct.update); then the runtime entries follow, one
    // D-Bus call each, chains first. Kill firewalld once the first of them is
    // in the kernel: permanent updated, runtime half-way.
    for (;;) {
      const text = await Deno.readTextFile(fw.directXmlPath).catch(() => "");
      if (text.includes("KUMA_MESH")) break;
      await new Promise((ok) => setTimeout(ok, 2));
    }
    while (!(await h.world.host.exec("iptables-save", ["-t", "nat"])).includes(":KUMA_MESH")) {
      await new Promise((ok) => setTimeout(ok, 2));
    }
    await fw.kill();
    const out = await child.output();
    const stdout = decoder.decode(out.stdout);
    const stderr = decoder.decode(out.stderr);
    assertEquals(out.code, 1, stdout + stderr);
    assertStringIncludes(stderr, "firewalld left the system bus while the rules were being stored");
    assertStringIncludes(
      stderr,
      "Permanent: its previous direct config was restored by rewriting /etc/firewalld/direct.xml, " +
        "which firewalld applies at its next start (0 entries of ours, as before this install). " +
        "Runtime: firewalld is not running, and the kernel rules were put back as they were " +
        "before this install (IPv",
    );
    assertStringIncludes(stderr, "the kernel rules were put back as they were before this install");
    // firewalld had created some of our chains before it died; they are gone again.
    assertStringIncludes(stderr, "IPv4 (nft) rolled back to its prior state");
    const xml = (await h.directXml())!;
    assertEquals(directXmlEntries(xml).filter(isOurEntry), [], "no entry of ours in direct.xml");
    assertEquals(foreignOf(xml), foreignBefore, "foreign entries kept");
    // A killed firewalld flushes nothing; what is left of ours was rolled back.
    assert(!(await netfilter(h)).includes("KUMA_MESH"), "no rule of ours in the kernel");

    assertEquals(await fw.start(), "running");
    assertEquals(await ourCounts(fw), { permanent: 0, runtime: 0, directXml: 0 });
    assert(!(await netfilter(h)).includes("KUMA_MESH"), "the next start applies the old config");
  }));

test("a DBUS_SYSTEM_BUS_ADDRESS outside the binary's permissions: one clear sentence, then each command decides", () =>
  withFirewalldHost({}, async (h) => {
    const env = { DBUS_SYSTEM_BUS_ADDRESS: "unix:path=/tmp/ktp-nowhere/bus" };
    const sentence = 'DBUS_SYSTEM_BUS_ADDRESS is "unix:path=/tmp/ktp-nowhere/bus", but ' +
      "kuma-tproxy may only reach the system bus at unix:path=/run/dbus/system_bus_socket or " +
      "unix:path=/var/run/dbus/system_bus_socket";
    const dry = await h.cli(["install", "--dry-run"], { env });
    assertOk(dry, "install --dry-run");
    assertStringIncludes(dry.stdout, "### IPv4 ###");

    const before = await netfilter(h);
    const store = await h.cli(STORE, { env });
    assertEquals(store.code, 2, store.stdout + store.stderr);
    assertStringIncludes(store.stderr, `kuma-tproxy: --store-firewalld: ${sentence}`);
    assertStringIncludes(store.stderr, "Nothing was changed.");
    assertEquals(store.stderr.includes("--allow-write"), false, store.stderr);
    assertEquals(await netfilter(h), before);

    const install = await h.cli(["install"], { env });
    assertOk(install, "install without --store-firewalld");
    assertStringIncludes(install.stderr, `# [WARNING] ${sentence}; firewalld's state is unknown`);
    assertStringIncludes(await netfilter(h), "KUMA_MESH_OUTBOUND");

    const status = await h.cli(["status"], { env });
    assertStringIncludes(status.stdout, `Persistence (firewalld, unknown): unknown (${sentence})`);

    const uninstall = await h.cli(["uninstall"], { env });
    assertEquals(uninstall.code, 1, uninstall.stdout + uninstall.stderr);
    assertStringIncludes(
      uninstall.stderr,
      `${sentence}; firewalld's entries of ours could not be checked or removed`,
    );
    assert(!(await netfilter(h)).includes("KUMA_MESH"), "the kernel rules went anyway");
  }));

test("install --dry-run --store-firewalld under RFC3964_IPv4=yes prints everything, then says the real run would refuse (firewalld < 2.3)", () =>
  withFirewalldHost({}, async (h) => {
    const before = await netfilter(h);
    const r = await h.cli([...STORE, "--dry-run"]);
    // From 2.3 the real run goes ahead (cli_firewalld_rfc3964_test.ts), and so does this one.
    const refuses = !(await acceptsDnatOutput());
    assertEquals(r.code, refuses ? 1 : 0, r.stdout + r.stderr);
    assertStringIncludes(r.stdout, "### IPv4 ###");
    assertStringIncludes(r.stdout, "### IPv6 ###");
    assertStringIncludes(r.stdout, "### firewalld (/etc/firewalld/direct.xml) ###");
    assertStringIncludes(r.stdout, `<chain ipv="ipv6" table="nat" chain="KUMA_MESH_OUTBOUND"/>`);
    if (refuses) {
      assertStringIncludes(
        r.stderr,
        "# [WARNING] [dry-run] the real run would refuse: firewalld has RFC3964_IPv4 enabled",
      );
    } else assertEquals(r.stderr.includes("would refuse"), false, r.stderr);
    assertEquals(await netfilter(h), before);
    assertEquals(await h.directXml(), null);
  }));

test("install without --store-firewalld removes what an earlier --store-firewalld stored (firewalld running); counts in order", () =>
  withFirewalldHost({ rfc3964Ipv4: false }, async (h) => {
    const fw = h.firewalld;
    assertEquals(await fw.start(), "running");
    // --verbose: the same rules and counts, other entries (long option names), so the
    // re-install stores again: one of the same config changes nothing (cli_unchanged_test.ts).
    assertOk(await h.cli([...STORE, "--verbose"]), "install --store-firewalld --verbose");
    const again = await h.cli(STORE);
    assertOk(again, "re-install --store-firewalld");
    // Counts: rules and chains everywhere, our old entries out before the new ones in.
    const lines = again.stdout.trim().split("\n");
    const removed = lines.findIndex((l) => l.startsWith("firewalld (D-Bus): removed "));
    const stored = lines.findIndex((l) => l.startsWith("firewalld (D-Bus): stored "));
    assert(removed >= 0 && stored > removed, again.stdout);
    const count = (l: string) => /(\d+) rules and (\d+) chains/.exec(l)!.slice(1).map(Number);
    const installed = lines.filter((l) => / \(nft\): installed /.test(l)).map(count);
    assertEquals(installed.length, 2, again.stdout);
    const total = [installed[0][0] + installed[1][0], installed[0][1] + installed[1][1]];
    assertEquals(count(lines[stored]), total, "stored = installed, rules and chains");
    assertStringIncludes(
      lines[removed],
      `removed ${total[0]} rules and ${total[1]} chains from the permanent and ` +
        `${total[0]} rules and ${total[1]} chains from the runtime direct config`,
    );
    assert(stored < lines.findIndex((l) => / installed /.test(l)), "stored, then the summary");

    const plain = await h.cli(["install"]);
    assertOk(plain, "install without --store-firewalld");
    assertStringIncludes(plain.stdout, "firewalld (D-Bus): removed ");
    assertStringIncludes(plain.stderr, "they were stored by an earlier --store-firewalld");
    assertEquals(await ourCounts(fw), { permanent: 0, runtime: 0, directXml: null });
    const live = await netfilter(h);
    assertStringIncludes(live, "KUMA_MESH_OUTBOUND", "the new rules are live");
    await fw.reload();
    if (await fw.sparesIptablesWithoutDirect()) {
      // firewalld 2.x with no direct config left does not flush iptables
      // (firewalld F1): the live rules stay as they were, nothing is added.
      assertEquals(await netfilter(h), live, "a reload keeps the live rules, adds no old rule set");
    } else {
      assert(!(await netfilter(h)).includes("KUMA_MESH"), "a reload brings no old rule set back");
    }
    assertEquals(await ourCounts(fw), { permanent: 0, runtime: 0, directXml: null });

    // A host that had no direct.xml has none again after install --store-firewalld + uninstall.
    assertOk(await h.cli(STORE), "install --store-firewalld");
    assertOk(await h.cli(["uninstall"]), "uninstall");
    assertEquals(await h.directXml(), null, "the emptied direct.xml is removed");
    assertEquals((await configFiles(fw)).filter((n) => n.includes("kuma-tproxy")), []);
  }));

test("install without --store-firewalld removes what an earlier --store-firewalld stored (firewalld stopped)", () =>
  withFirewalldHost({ rfc3964Ipv4: false }, async (h) => {
    const fw = h.firewalld;
    const files = await configFiles(fw);
    assertOk(await h.cli(STORE), "install --store-firewalld, stopped");
    assertNotEquals(await h.directXml(), null);
    const plain = await h.cli(["install"]);
    assertOk(plain, "install without --store-firewalld, stopped");
    assertStringIncludes(plain.stdout, "firewalld (/etc/firewalld/direct.xml): removed ");
    assertStringIncludes(plain.stderr, "they were stored by an earlier --store-firewalld");
    // The same config again: the kernel lines count what was replaced as what was installed.
    for (const f of [4, 6]) {
      const installed = new RegExp(`^IPv${f} \\(nft\\): installed (.+)$`, "m").exec(plain.stdout);
      assert(installed, plain.stdout);
      assertStringIncludes(
        plain.stderr,
        `# IPv${f} (nft): replaced an earlier installation: ${installed[1]}\n`,
      );
    }
    // The file we created held only our entries: it is gone, and no backup is left.
    assertEquals(await configFiles(fw), files);
    const live = await netfilter(h);
    assertEquals(await fw.start(), "running");
    assertEquals(await ourCounts(fw), { permanent: 0, runtime: 0, directXml: null });
    if (await fw.sparesIptablesWithoutDirect()) {
      // firewalld 2.x without direct config starts without flushing iptables
      // (firewalld F1): the live rules stay as they were, nothing is added.
      assertEquals(await netfilter(h), live, "the next start keeps the live rules only");
    } else {
      assert(
        !(await netfilter(h)).includes("KUMA_MESH"),
        "the next start brings no old rule set back",
      );
    }

    // Install + uninstall with firewalld stopped, on a host without direct.xml: nothing left.
    await fw.stop();
    assertOk(await h.cli(STORE), "install --store-firewalld, stopped");
    assertOk(await h.cli(["uninstall"]), "uninstall, stopped");
    assertEquals(await configFiles(fw), files, "no empty <direct> file, no backup");
  }));
