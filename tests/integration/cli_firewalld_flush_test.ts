/**
 * Issue 20's repro, on whatever firewalld this userland has: a foreign nat
 * chain and an admin's filter rule in iptables, then
 * `install --store-firewalld`. firewalld 2.x leaves iptables alone only while
 * its direct config is empty; the first direct entry, and every reload while
 * one exists, flushes every iptables table (firewalld F12,
 * docs/firewalld.md#f12). There the install must refuse, name both foreign
 * rules and change nothing; `--backend nftables` must install beside them,
 * and they must survive install, `--reload`, `--complete-reload`, a restart
 * and uninstall. firewalld before 2.0 flushes iptables at every start,
 * reload and stop whatever we do (F1): there the store goes ahead, the direct
 * add leaves the foreign rules in place, and the next reload takes them with
 * or without us, which the test asserts too.
 *
 * Needs root, `ip netns`, unshare/nsenter and firewalld (run with --allow-all).
 */
import { assertEquals, assertNotEquals, assertStringIncludes } from "../assert.ts";
import { type FirewalldHost, withFirewalldHost } from "../world/firewalld_host.ts";
import { firewalldVersion } from "../world/firewalld.ts";

const STORE = [
  "install",
  "--kuma-dp-user",
  "5678",
  "--store-firewalld",
  "--ip-family-mode",
  "ipv4",
  "--exclude-inbound-ports",
  "22",
];
const NFT = [
  "install",
  "--backend",
  "nftables",
  "--kuma-dp-user",
  "5678",
  "--ip-family-mode",
  "ipv4",
];

const ADMIN_RULE = '-A INPUT -p tcp -m tcp --dport 6 -m comment --comment "admin rule" -j ACCEPT';
const DOCKERISH_JUMP = "-A PREROUTING -p tcp -m tcp --dport 8080 -j DOCKERISH";

async function addForeign(h: FirewalldHost): Promise<void> {
  const host = h.world.host;
  await host.exec("iptables", ["-t", "nat", "-N", "DOCKERISH"]);
  await host.exec("iptables", [
    "-t",
    "nat",
    "-A",
    "PREROUTING",
    "-p",
    "tcp",
    "--dport",
    "8080",
    "-j",
    "DOCKERISH",
  ]);
  await host.exec("iptables", [
    "-A",
    "INPUT",
    "-p",
    "tcp",
    "--dport",
    "6",
    "-m",
    "comment",
    "--comment",
    "admin rule",
    "-j",
    "ACCEPT",
  ]);
}

/** Which of the two foreign rules (and the chain) `iptables-save` still shows. */
async function foreignLeft(h: FirewalldHost): Promise<string[]> {
  const save = await h.world.host.exec("iptables-save", []);
  return [ADMIN_RULE, ":DOCKERISH - ", DOCKERISH_JUMP].filter((l) => save.includes(l));
}
const ALL_FOREIGN = [ADMIN_RULE, ":DOCKERISH - ", DOCKERISH_JUMP];

/** iptables-save of both families without comments and counters. */
async function iptablesState(h: FirewalldHost): Promise<string> {
  let text = "";
  for (const cmd of ["iptables-save", "ip6tables-save"]) {
    text += (await h.world.host.exec(cmd, [])).split("\n").filter((l) => !l.startsWith("#"))
      .map((l) => l.replace(/\[\d+:\d+\]/, "")).join("\n");
  }
  return text;
}

/** Everything the refusal must leave as it was. */
async function everything(h: FirewalldHost): Promise<Record<string, string | null>> {
  const fw = h.firewalld;
  const direct = async (what: string) =>
    fw.running ? (await fw.firewallCmd(["--permanent", "--direct", what])).stdout : null;
  return {
    iptables: await iptablesState(h),
    nft: (await h.world.host.exec("nft", ["list", "ruleset"]))
      .replace(/counter packets \d+ bytes \d+/g, "counter"),
    permanentChains: await direct("--get-all-chains"),
    permanentRules: await direct("--get-all-rules"),
    permanentPassthroughs: await direct("--get-all-passthroughs"),
    directXml: await h.directXml(),
  };
}

function assertOk(r: { code: number; stdout: string; stderr: string }, what: string) {
  assertEquals(r.code, 0, `${what} exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
}

Deno.test({
  name: "install --store-firewalld beside foreign iptables rules: refused where firewalld would " +
    "flush them (2.x); --backend nftables keeps them through reload, restart and uninstall",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withFirewalldHost({}, async (h) => {
      const fw = h.firewalld;
      assertEquals(await fw.start(), "running");
      const flushesOnDirect = (await firewalldVersion())[0] >= 2;
      await addForeign(h);
      assertEquals(await foreignLeft(h), ALL_FOREIGN);
      const before = await everything(h);

      const store = await h.cli(STORE);
      if (flushesOnDirect) {
        assertEquals(store.code, 1, `${store.stdout}\n${store.stderr}`);
        assertStringIncludes(store.stderr, "--backend nftables");
        assertStringIncludes(store.stderr, "--allow-firewalld-flush");
        assertStringIncludes(store.stderr, `IPv4 filter INPUT: ${ADMIN_RULE}`);
        assertStringIncludes(store.stderr, `IPv4 nat PREROUTING: ${DOCKERISH_JUMP}`);
        assertStringIncludes(store.stderr, "IPv4 nat DOCKERISH: -N DOCKERISH");
        assertStringIncludes(store.stderr, "Nothing was changed.");
        assertEquals(await everything(h), before, "the refusal changed something");
        // The dry run says the same, with the same exit code.
        const dry = await h.cli([...STORE, "--dry-run"]);
        assertEquals(dry.code, 1, dry.stderr);
        assertStringIncludes(dry.stderr, "[dry-run] the real run would refuse");
        assertEquals(await everything(h), before, "the dry run changed something");
      } else {
        // Before 2.0 a direct add does not flush: the store goes ahead and
        // the foreign rules are still there; the next reload flushes them,
        // as it would without us (firewalld F1).
        assertOk(store, "install --store-firewalld (firewalld before 2.0)");
        assertEquals(store.stderr.includes("--allow-firewalld-flush"), false, store.stderr);
        assertEquals(await foreignLeft(h), ALL_FOREIGN, "the direct add flushed them");
        assertOk(await h.cli(["uninstall"]), "uninstall");
        assertEquals(await foreignLeft(h), ALL_FOREIGN, "uninstall");
        await fw.reload();
        assertEquals(await foreignLeft(h), [], "firewalld before 2.0 flushes iptables at reload");
        await addForeign(h);
      }

      const nft = await h.cli(NFT);
      assertOk(nft, "install --backend nftables");
      const ours = () => h.world.host.exec("nft", ["list", "tables"]);
      assertStringIncludes(await ours(), "inet kuma_mesh_transparent_proxy");
      assertEquals(await foreignLeft(h), ALL_FOREIGN, "after install --backend nftables");
      if (flushesOnDirect) {
        await fw.reload();
        assertEquals(await foreignLeft(h), ALL_FOREIGN, "after firewall-cmd --reload");
        const complete = await fw.firewallCmd(["--complete-reload"]);
        assertEquals(complete.code, 0, complete.stderr);
        assertEquals(await foreignLeft(h), ALL_FOREIGN, "after --complete-reload");
        await fw.stop();
        assertEquals(await fw.start(), "running");
        assertEquals(await foreignLeft(h), ALL_FOREIGN, "after a firewalld restart");
      } else {
        await fw.reload();
        assertEquals(await foreignLeft(h), [], "firewalld before 2.0 flushes iptables at reload");
        await addForeign(h);
      }
      assertStringIncludes(await ours(), "inet kuma_mesh_transparent_proxy", "our table");
      assertOk(await h.cli(["uninstall"]), "uninstall");
      assertEquals(await foreignLeft(h), ALL_FOREIGN, "after uninstall");
      assertEquals((await ours()).includes("kuma_mesh"), false, "our table after uninstall");
    }),
});

Deno.test({
  name: "install --store-firewalld --allow-firewalld-flush: stores, and install and status warn " +
    "that every reload flushes other tools' iptables rules (2.x)",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withFirewalldHost({}, async (h) => {
      const fw = h.firewalld;
      assertEquals(await fw.start(), "running");
      const flushesOnDirect = (await firewalldVersion())[0] >= 2;
      await addForeign(h);
      const store = await h.cli([...STORE, "--allow-firewalld-flush"]);
      assertOk(store, "install --store-firewalld --allow-firewalld-flush");
      const status = await h.cli(["status", ...STORE.slice(1)]);
      assertOk(status, "status");
      const warning = "every firewalld reload also flushes other tools' iptables rules";
      if (flushesOnDirect) {
        assertStringIncludes(store.stderr, `IPv4 filter INPUT: ${ADMIN_RULE}`);
        assertStringIncludes(store.stderr, warning);
        assertStringIncludes(status.stderr, warning);
        assertEquals(await foreignLeft(h), [], "firewalld 2.x flushed at the first direct add");
      } else {
        assertEquals(store.stderr.includes(warning), false, store.stderr);
        assertEquals(status.stderr.includes(warning), false, status.stderr);
        assertEquals(await foreignLeft(h), ALL_FOREIGN);
      }
      assertOk(await h.cli(["uninstall"]), "uninstall");
      const after = await h.cli(["status", ...STORE.slice(1)]);
      assertEquals(after.stderr.includes(warning), false, after.stderr);
    }),
});

Deno.test({
  name: "install --store-firewalld with firewalld stopped: refused where its next start would " +
    "flush foreign rules (2.x), nothing changed",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withFirewalldHost({}, async (h) => {
      const flushesOnDirect = (await firewalldVersion())[0] >= 2;
      await addForeign(h);
      const before = await everything(h);
      const store = await h.cli(STORE);
      if (flushesOnDirect) {
        assertEquals(store.code, 1, `${store.stdout}\n${store.stderr}`);
        assertStringIncludes(store.stderr, "at its next start");
        assertStringIncludes(store.stderr, `IPv4 nat PREROUTING: ${DOCKERISH_JUMP}`);
        assertEquals(await everything(h), before, "the refusal changed something");
      } else {
        assertOk(store, "install --store-firewalld (firewalld before 2.0, stopped)");
        assertNotEquals(await h.directXml(), null);
        assertEquals(await foreignLeft(h), ALL_FOREIGN);
        assertOk(await h.cli(["uninstall"]), "uninstall");
      }
    }),
});

Deno.test({
  name: "install without --store-firewalld beside a running firewalld: the warning says what its " +
    "reloads do to the rules (2.x keeps them while its direct config is empty)",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withFirewalldHost({}, async (h) => {
      const fw = h.firewalld;
      assertEquals(await fw.start(), "running");
      const flushesOnDirect = (await firewalldVersion())[0] >= 2;
      const plain = await h.cli([
        "install",
        ...STORE.slice(1).filter((a) => a !== "--store-firewalld"),
      ]);
      assertOk(plain, "install");
      await fw.reload();
      const kept = (await h.world.host.exec("iptables-save", [])).includes("KUMA_MESH_INBOUND");
      if (flushesOnDirect) {
        assertEquals(
          plain.stderr.includes("flushes iptables at every reload"),
          false,
          plain.stderr,
        );
        assertStringIncludes(plain.stderr, "its reloads keep these rules");
        assertEquals(kept, true, "firewalld 2.x flushed our rules at reload");
      } else {
        assertStringIncludes(plain.stderr, "flushes iptables at every reload");
        assertEquals(kept, false, "firewalld before 2.0 kept our rules at reload");
      }
      assertOk(await h.cli(["uninstall"]), "uninstall");
    }),
});
