/**
 * An unchanged install changes nothing (issue 23 item 6): a second install
 * of the same config through the real CLI says "unchanged", reports
 * `changed: false`, and writes neither the kernel (`nft monitor` reports no
 * event; the iptables packet counters of our rules, non-zero from real
 * traffic, are as they were: a restore would have reset them) nor a file
 * (inode, mtime and ctime of each file and directory kept). On both
 * backends, with the boot unit, and with firewalld stopped (direct.xml) and
 * running (its permanent and runtime direct config). A changed config, a
 * deleted rule, a boot file another user could change, our unit where
 * firewalld stores, a missing ::6 and our entries in direct.xml under
 * nftables still install.
 *
 * Needs root, `ip netns`, unshare, nft and firewalld (run with --allow-all).
 */
import { assert, assertEquals, assertNotEquals, assertStringIncludes } from "../assert.ts";
import { validate } from "../json_schema.ts";
import { type BootHost, withBootHost } from "../world/boot_host.ts";
import { withFirewalldHost } from "../world/firewalld_host.ts";
import type { Netns } from "../world/netns.ts";
import { NftMonitor } from "../world/nft_monitor.ts";
import { APP_UID, KUMA_DP_UID, NAMES, PORTS, type World } from "../world/world.ts";
import type { CliResult } from "./cli_run.ts";

const SCHEMA = JSON.parse(
  await Deno.readTextFile(new URL("../../docs/report.schema.json", import.meta.url)),
);
const UNCHANGED =
  "unchanged: the rules and the stored files already equal this config; nothing was written\n";
const OUR_TABLE = "inet kuma_mesh_transparent_proxy";
/** What --store-systemd writes, and the directories it writes in. */
const BOOT_PATHS = [
  "/etc/systemd/system/kuma-tproxy.service",
  "/etc/systemd/system/multi-user.target.wants/kuma-tproxy.service",
  "/etc/systemd/system/multi-user.target.wants",
  "/etc/systemd/system",
  "/etc/kuma-tproxy",
];

const test = (name: string, fn: () => Promise<void>) =>
  Deno.test({ name, sanitizeResources: false, sanitizeOps: false, fn });

/** The report of an `install --json`, checked against the schema and the exit code. */
function parsed(r: CliResult, what: string) {
  let json;
  try {
    json = JSON.parse(r.stdout);
  } catch {
    throw new Error(`${what}: not JSON:\n${r.stdout}\n${r.stderr}`);
  }
  assertEquals(validate(SCHEMA, json), [], `${what}: ${r.stdout}\n${r.stderr}`);
  assertEquals(json.exitCode, r.code, `${what}: ${r.stderr}`);
  return json;
}

/** Inode, mtime and ctime of each path (lstat: a link itself), as one comparable text. */
async function stamps(paths: string[], at: (p: string) => string = (p) => p): Promise<string[]> {
  const out: string[] = [];
  for (const p of paths) {
    const s = await Deno.lstat(at(p));
    out.push(`${p} ino=${s.ino} mtime=${s.mtime?.getTime()} ctime=${s.ctime?.getTime()}`);
  }
  return out;
}

/**
 * Both families' iptables rules with their packet and byte counters. A
 * built-in chain's policy counter is left out: any packet the namespace
 * sends (a late neighbour or multicast message) bumps it whatever install
 * does, and a restore of our rules never resets it.
 */
async function counters(ns: Netns): Promise<string> {
  let text = "";
  for (const cmd of ["iptables-save", "ip6tables-save"]) {
    text += (await ns.exec(cmd, ["-c"])).split("\n")
      .filter((l) => !l.startsWith("#"))
      .map((l) => l.replace(/^(:[A-Z]+ (?:ACCEPT|DROP)) \[\d+:\d+\]$/, "$1"))
      .join("\n");
  }
  return text;
}

/** Traffic through our rules: the app's outbound connections, redirected to the sidecar. */
async function traffic(w: World): Promise<void> {
  for (const f of [4, 6] as const) {
    const reply = await w.connect("host", APP_UID, w.addr("peer", f), PORTS.peerService);
    assertStringIncludes(reply, NAMES.sidecar, `IPv${f} is redirected`);
  }
}

/** Runs `run` with `nft monitor` watching the namespace; returns its result and the events seen. */
async function watched<T>(ns: Netns, run: () => Promise<T>): Promise<[T, string[]]> {
  const monitor = await NftMonitor.start(ns);
  let result: T;
  try {
    result = await run();
  } catch (e) {
    await monitor.stop().catch(() => {});
    throw e;
  }
  return [result, await monitor.stop()];
}

/** The second install of `flags` on `h`: unchanged, in JSON and in text, and nothing written. */
async function assertUnchanged(
  cli: (args: string[]) => Promise<CliResult>,
  ns: Netns,
  flags: string[],
): Promise<void> {
  const [[run, text], events] = await watched(ns, async () => [
    await cli(["install", "--json", ...flags]),
    await cli(["install", ...flags]),
  ]);
  const json = parsed(run, "the second install");
  assertEquals(
    [json.exitCode, json.changed, json.changes, json.persistence, json.output],
    [0, false, [], [], UNCHANGED],
    `${run.stdout}\n${run.stderr}`,
  );
  assertEquals([text.code, text.stdout], [0, UNCHANGED], text.stderr);
  assertEquals(events, [], "nft monitor saw the kernel change");
}

for (const backend of ["iptables", "nftables"]) {
  const flags = ["--backend", backend, "--kuma-dp-user", String(KUMA_DP_UID), "--store-systemd"];

  test(`a second identical install --backend ${backend} --store-systemd writes nothing`, () =>
    withBootHost(async (h) => {
      const w = h.world;
      const first = parsed(await h.cli(["install", "--json", ...flags]), "install");
      assertEquals([first.exitCode, first.changed], [0, true], first.error);
      await traffic(w);
      const before = await counters(w.host);
      if (backend === "iptables") {
        // A restore resets every counter of the chains it writes: non-zero ones prove none ran.
        assert(/^\[[1-9]\d*:\d+\] -A KUMA_MESH_OUTBOUND /m.test(before), before);
      }
      const files = await stamps(BOOT_PATHS, (p) => h.path(p));
      const calls = await h.systemctlCalls();

      await assertUnchanged((a) => h.cli(a), w.host, flags);
      assertEquals(await counters(w.host), before, "iptables counters kept");
      assertEquals(await stamps(BOOT_PATHS, (p) => h.path(p)), files, "no file rewritten");
      assertEquals(await h.systemctlCalls(), calls);
      assertEquals((await h.cli(["status", ...flags])).code, 0);
    }));

  test(`--backend ${backend}: a changed config and a deleted rule still install`, () =>
    withBootHost(async (h) => {
      const w = h.world;
      assertEquals((await h.cli(["install", ...flags])).code, 0);
      const more = [...flags, "--exclude-inbound-ports", "4321"];
      const files = await stamps(BOOT_PATHS.slice(0, 1), (p) => h.path(p));
      const [changed, events] = await watched(
        w.host,
        async () => parsed(await h.cli(["install", "--json", ...more]), "another config"),
      );
      assertEquals([changed.exitCode, changed.changed], [0, true], changed.error);
      assertNotEquals(changed.output, UNCHANGED);
      assertNotEquals(events, [], "the new rules went into the kernel");
      assertNotEquals(await stamps(BOOT_PATHS.slice(0, 1), (p) => h.path(p)), files);
      assertEquals((await h.cli(["status", ...more])).code, 0, "installed as the new config");

      await deleteOneRule(h, backend);
      assertEquals((await h.cli(["status", ...more])).code, 3, "the deleted rule is drift");
      const repaired = parsed(await h.cli(["install", "--json", ...more]), "the repair");
      assertEquals([repaired.exitCode, repaired.changed], [0, true], repaired.error);
      assertEquals((await h.cli(["status", ...more])).code, 0, "repaired");
    }));
}

/** What an admin might do: delete one rule of ours, the first of the outbound chain. */
async function deleteOneRule(h: BootHost, backend: string): Promise<void> {
  const ns = h.world.host;
  if (backend === "iptables") {
    await ns.exec("iptables", ["-t", "nat", "-D", "KUMA_MESH_OUTBOUND", "1"]);
    return;
  }
  const listing = await ns.exec("nft", ["-a", "list", "table", ...OUR_TABLE.split(" ")]);
  let chain = "";
  for (const line of listing.split("\n").map((l) => l.trim())) {
    const head = /^chain (\S+) \{/.exec(line);
    if (head) chain = head[1];
    const handle = /# handle (\d+)$/.exec(line);
    if (!head && handle && !line.startsWith("type ") && chain !== "" && !line.startsWith("set ")) {
      await ns.exec("nft", ["delete", "rule", ...OUR_TABLE.split(" "), chain, "handle", handle[1]]);
      return;
    }
  }
  throw new Error(`no rule of ours to delete in:\n${listing}`);
}

const STORE = [
  "--store-firewalld",
  "--ip-family-mode",
  "ipv4",
  "--kuma-dp-user",
  String(KUMA_DP_UID),
];

test("a second identical install --store-firewalld, firewalld stopped, keeps direct.xml", () =>
  withFirewalldHost({}, async (h) => {
    const fw = h.firewalld;
    const first = parsed(await h.cli(["install", "--json", ...STORE]), "install");
    assertEquals([first.exitCode, first.changed], [0, true], first.error);
    assertEquals(first.persistence.map((p: { target: string }) => p.target), ["direct.xml"]);
    const files = await stamps([fw.directXmlPath, fw.configDir]);
    const before = await counters(h.world.host);
    await assertUnchanged((a) => h.cli(a), h.world.host, STORE);
    assertEquals(await stamps([fw.directXmlPath, fw.configDir]), files, "direct.xml kept");
    assertEquals(await counters(h.world.host), before);
  }));

test("a second identical install --store-firewalld, firewalld running, changes nothing in it", () =>
  withFirewalldHost({}, async (h) => {
    const fw = h.firewalld;
    await fw.start();
    const first = parsed(await h.cli(["install", "--json", ...STORE]), "install");
    assertEquals([first.exitCode, first.changed], [0, true], first.error);
    assertEquals(first.persistence.map((p: { target: string }) => p.target), ["firewalld"]);
    // firewalld rewrites direct.xml at each permanent update (config.direct.update).
    const files = await stamps([fw.directXmlPath, fw.configDir]);
    const before = await counters(h.world.host);
    await assertUnchanged((a) => h.cli(a), h.world.host, STORE);
    assertEquals(await stamps([fw.directXmlPath, fw.configDir]), files, "permanent config kept");
    assertEquals(await counters(h.world.host), before);
  }));

/**
 * A boot unit or config with the right text but not as install writes it
 * (another mode, another owner, a symlink) is rewritten: the boot run applies
 * it as root, so a file someone else can change must not be kept as "unchanged",
 * nor reported by status as matching the config.
 */
test("install rewrites a boot file with the right text but not as it writes it", () =>
  withBootHost(async (h) => {
    const flags = ["--kuma-dp-user", String(KUMA_DP_UID), "--store-systemd"];
    const unit = "/etc/systemd/system/kuma-tproxy.service";
    const config = "/etc/kuma-tproxy/boot.yaml";
    assertEquals((await h.cli(["install", ...flags])).code, 0);
    const tamper: [string, () => Promise<void>][] = [
      ["unit writable by all", () => Deno.chmod(h.path(unit), 0o666)],
      ["unit owned by another user", () => Deno.chown(h.path(unit), APP_UID, APP_UID)],
      ["config readable by all", () => Deno.chmod(h.path(config), 0o644)],
      ["unit a symlink to a copy", async () => {
        await Deno.copyFile(h.path(unit), h.path(`${unit}.copy`));
        await Deno.remove(h.path(unit));
        await Deno.symlink(`${unit}.copy`, h.path(unit));
      }],
    ];
    for (const [what, change] of tamper) {
      await change();
      const status = await h.cli(["status", ...flags]);
      assertEquals(status.code, 3, `${what}: ${status.stdout}`);
      assertStringIncludes(
        status.stdout,
        "differs from config (run install --store-systemd again)",
      );
      const r = parsed(await h.cli(["install", "--json", ...flags]), what);
      assertEquals([r.exitCode, r.changed], [0, true], `${what}: ${r.output}`);
      for (const [path, mode] of [[unit, 0o644], [config, 0o600]] as const) {
        const s = await Deno.lstat(h.path(path));
        assertEquals([s.isFile, s.uid, s.mode! & 0o7777], [true, 0, mode], `${what}: ${path}`);
      }
    }
  }));

test("--backend nftables, firewalld's state unknown: an unchanged install still says so", () =>
  withFirewalldHost({}, async (h) => {
    const env = { DBUS_SYSTEM_BUS_ADDRESS: "unix:path=/tmp/ktp-nowhere/bus" };
    const flags = ["install", "--backend", "nftables", "--kuma-dp-user", String(KUMA_DP_UID)];
    const unchecked = "firewalld's entries of ours could not be checked or removed";
    const first = await h.cli(flags, { env });
    assertEquals(first.code, 0, first.stderr);
    assertStringIncludes(first.stderr, unchecked);
    const again = await h.cli(flags, { env });
    assertEquals([again.code, again.stdout], [0, UNCHANGED], again.stderr);
    assertStringIncludes(again.stderr, unchecked);
  }));

test("--store-firewalld with our boot unit left behind: the unit goes, not unchanged", () =>
  withFirewalldHost({ rfc3964Ipv4: false }, async (h) => {
    const unit = "/etc/systemd/system/kuma-tproxy.service";
    const sh = async (script: string) => {
      const r = await h.inside("sh", ["-ec", script]);
      assertEquals(r.code, 0, r.stderr);
      return r.stdout;
    };
    const boot = await h.cli(["install", ...STORE.slice(1), "--store-systemd"]);
    assertEquals(boot.code, 0, boot.stderr);
    await sh(`mkdir /etc/ktp-saved; cp -a /etc/systemd/system /etc/kuma-tproxy /etc/ktp-saved/`);
    const first = parsed(await h.cli(["install", "--json", ...STORE]), "install");
    assertEquals([first.exitCode, first.changed], [0, true], first.error);
    assertEquals(await sh(`[ -e ${unit} ] && echo there || echo gone`), "gone\n");
    // The unit of the --store-systemd install comes back (a backup restored, say).
    await sh(`cp -a /etc/ktp-saved/system/. /etc/systemd/system/
      cp -a /etc/ktp-saved/kuma-tproxy /etc/`);
    const again = parsed(await h.cli(["install", "--json", ...STORE]), "again");
    assertEquals([again.exitCode, again.changed], [0, true], again.output);
    assert(
      again.persistence.some((p: { target: string }) => p.target === "systemd"),
      again.output,
    );
    assertEquals(await sh(`[ -e ${unit} ] && echo there || echo gone`), "gone\n");
  }));

test("::6 gone from lo: the rules equal, but install adds it again", () =>
  withBootHost(async (h) => {
    const ns = h.world.host;
    const flags = ["--kuma-dp-user", String(KUMA_DP_UID)];
    assertEquals((await h.cli(["install", ...flags])).code, 0);
    await ns.exec("ip", ["-6", "addr", "del", "::6/128", "dev", "lo"]);
    const r = parsed(await h.cli(["install", "--json", ...flags]), "install without ::6");
    assertEquals([r.exitCode, r.changed], [0, true], r.output);
    assertStringIncludes(await ns.exec("ip", ["-6", "addr", "show", "dev", "lo"]), "::6/128");
  }));

test("--backend nftables with our entries back in direct.xml: they go, not unchanged", () =>
  withFirewalldHost({ rfc3964Ipv4: false }, async (h) => {
    const fw = h.firewalld;
    const xml = () => Deno.readTextFile(fw.directXmlPath).catch(() => null);
    const nft = ["install", "--json", "--backend", "nftables", ...STORE.slice(1)];
    assertEquals((await h.cli(["install", ...STORE])).code, 0);
    const stored = await Deno.readTextFile(fw.directXmlPath);
    const first = parsed(await h.cli(nft), "nftables install");
    assertEquals([first.exitCode, first.changed], [0, true], first.error);
    assertEquals(await xml(), null, "our entries removed");
    // The stored entries come back (a backup restored, say): firewalld would apply them at start.
    await Deno.writeTextFile(fw.directXmlPath, stored);
    const again = parsed(await h.cli(nft), "again");
    assertEquals([again.exitCode, again.changed], [0, true], again.output);
    assertEquals(await xml(), null, "removed again");
  }));
