/**
 * Ownership of every object in our nft table, and the whole table in
 * status (issue 21 items 2 and 3), through the real CLI and real nft in
 * throw-away namespaces: what an admin put into `inet
 * kuma_mesh_transparent_proxy` is never deleted quietly, and every
 * tampering that changes traffic shows in status. Needs root and `ip netns`.
 */
import { assert, assertEquals, assertStringIncludes } from "../assert.ts";
import { type Netns, withNetns } from "../world/netns.ts";
import { snapshot, tools } from "./iptables_fixtures.ts";
import { ensureKumaDp, runCli } from "./cli_run.ts";
import { withBootHost } from "../world/boot_host.ts";
import { KUMA_DP_UID } from "../world/world.ts";

const FLAGS = ["--kuma-dp-user", "5678", "--exclude-outbound-ports", "25"];
const NFT = ["--backend", "nftables", ...FLAGS];
const T = "inet kuma_mesh_transparent_proxy";

/** Everything a run may change: the nft ruleset and iptables-nft of both families. */
async function state(ns: Netns): Promise<string> {
  return [
    await ns.exec("nft", ["list", "ruleset"]),
    await snapshot(ns, tools("nft", 4)),
    await snapshot(ns, tools("nft", 6)),
  ].join("\n=====\n");
}

async function installed(ns: Netns): Promise<void> {
  const r = await runCli(["install", ...NFT], { netns: ns });
  assertEquals(r.code, 0, r.stderr);
  const s = await runCli(["status", ...NFT], { netns: ns });
  assertEquals(s.code, 0, s.stdout + s.stderr);
}

Deno.test("nft ownership: an admin's chain without rules and an admin's set in our table are never deleted", async () => {
  await ensureKumaDp();
  await withNetns("nftownobj", async (ns) => {
    await installed(ns);
    await ns.exec("nft", [`add chain ${T} admin_chain`]);
    await ns.exec("nft", [`add set ${T} admin_set { type ipv4_addr; }`]);
    const before = await state(ns);
    for (const args of [["install", ...NFT], ["uninstall"], ["install", ...FLAGS]]) {
      const r = await runCli(args, { netns: ns });
      assertEquals(r.code, 1, `${args.join(" ")}: ${r.stdout}${r.stderr}`);
      assertStringIncludes(r.stderr, "chain admin_chain (no rules)", args.join(" "));
      assertStringIncludes(r.stderr, "set admin_set (type ipv4_addr)", args.join(" "));
      assertStringIncludes(r.stderr, `nft delete set ${T} admin_set`, args.join(" "));
      assertEquals(await state(ns), before, args.join(" "));
    }
    const status = await runCli(["status", ...NFT], { netns: ns });
    assertEquals(status.code, 3, status.stdout + status.stderr);
    assertStringIncludes(status.stdout, "unexpected chain admin_chain: (no rules)");
    assertStringIncludes(status.stdout, "unexpected set admin_set: type ipv4_addr");
    assertStringIncludes(status.stderr, "install and uninstall leave it alone");
    // Once the admin moves them out, uninstall removes the rest.
    await ns.exec("nft", [`delete chain ${T} admin_chain`]);
    await ns.exec("nft", [`delete set ${T} admin_set`]);
    const uninstall = await runCli(["uninstall"], { netns: ns });
    assertEquals(uninstall.code, 0, uninstall.stderr);
    assert(!(await ns.exec("nft", ["list", "ruleset"])).includes("kuma_mesh_transparent_proxy"));
  });
});

Deno.test("nft status: every tampering that changes traffic is drift (exit 3), named", async (t) => {
  await ensureKumaDp();
  const cases: [string, string[], string[]][] = [
    [
      "our table made dormant",
      [`add table ${T} { flags dormant; }`],
      ["unexpected table: flags"],
    ],
    [
      "policy drop on our nat_output",
      [`add chain ${T} nat_output { policy drop; }`],
      [
        "missing    chain nat_output: type nat hook output priority -80 policy accept",
        "unexpected chain nat_output: type nat hook output priority -80 policy drop",
      ],
    ],
    [
      "an admin base chain with policy drop in our table",
      [`add chain ${T} admin_out { type filter hook output priority 0; policy drop; }`],
      ["unexpected chain admin_out: type filter hook output priority 0 policy drop"],
    ],
    [
      "an untagged rule in our chain",
      [`add rule ${T} KUMA_MESH_OUTBOUND tcp dport 4444 return`],
      ["unexpected chain KUMA_MESH_OUTBOUND: not ours: rule handle"],
    ],
    [
      "an admin's element in our set",
      [`add element ${T} outbound_exclude_ports { 4444 }`],
      ["unexpected set outbound_exclude_ports: 4444"],
    ],
    [
      "an admin's counter in our table",
      [`add counter ${T} admin_counter`],
      ["unexpected counter admin_counter: not written by kuma-tproxy"],
    ],
  ];
  for (const [name, commands, says] of cases) {
    await t.step(name, async () => {
      await withNetns("nftstatus", async (ns) => {
        await installed(ns);
        for (const c of commands) await ns.exec("nft", [c]);
        const status = await runCli(["status", ...NFT], { netns: ns });
        assertEquals(status.code, 3, status.stdout + status.stderr);
        for (const line of says) assertStringIncludes(status.stdout, line);
        assertStringIncludes(status.stdout, "IPv4: installed (nftables), differs from config");
      });
    });
  }
});

Deno.test("nft status: one untagged rule in our table is drift, not 'not installed'; an iptables install refuses", async () => {
  await ensureKumaDp();
  await withNetns("nftpartly", async (ns) => {
    await installed(ns);
    await ns.exec("nft", [`add rule ${T} KUMA_MESH_OUTBOUND tcp dport 4444 return`]);
    for (const config of [NFT, FLAGS]) {
      const status = await runCli(["status", ...config], { netns: ns });
      assertEquals(status.code, 3, status.stdout + status.stderr);
      assertStringIncludes(status.stdout, "not ours: rule handle");
    }
    const before = await state(ns);
    const ipt = await runCli(["install", ...FLAGS], { netns: ns });
    assertEquals(ipt.code, 1, ipt.stdout + ipt.stderr);
    assertStringIncludes(ipt.stderr, "rules of ours, which would keep redirecting");
    assertStringIncludes(ipt.stderr, "in KUMA_MESH_OUTBOUND (no comment)");
    assertStringIncludes(ipt.stderr, `nft delete rule ${T} KUMA_MESH_OUTBOUND handle`);
    assertEquals(await state(ns), before);
  });
});

Deno.test("nft ownership: uninstall refuses before the boot unit goes when our table holds an admin's set", async () => {
  await withBootHost(async (h) => {
    const host = h.world.host;
    const install = await h.cli([
      "install",
      ...["--backend", "nftables", "--kuma-dp-user", String(KUMA_DP_UID)],
      ...["--exclude-inbound-ports", "22", "--store-systemd"],
    ]);
    assertEquals(install.code, 0, install.stdout + install.stderr);
    await host.exec("nft", [`add set ${T} admin_set { type ipv4_addr; }`]);
    const files = async () =>
      await Promise.all(
        ["/etc/systemd/system/kuma-tproxy.service", "/etc/kuma-tproxy/boot.yaml"].map((p) =>
          Deno.readTextFile(h.path(p))
        ),
      );
    const before = [await host.exec("nft", ["list", "ruleset"]), ...await files()];
    const r = await h.cli(["uninstall"]);
    assertEquals(r.code, 1, r.stdout + r.stderr);
    assertStringIncludes(r.stderr, `nft delete set ${T} admin_set`);
    assertEquals(r.stdout.includes("removed"), false, r.stdout);
    assertEquals([await host.exec("nft", ["list", "ruleset"]), ...await files()], before);
  });
});
