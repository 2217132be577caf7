/**
 * `kuma-tproxy status` end to end: the CLI run inside a fresh dual-stack
 * namespace, against rules that `install` put there (or that were loaded
 * with iptables-legacy-restore, to see the backend reported).
 *
 * Needs root and `ip netns` (run with --allow-all).
 */
import { buildRuleSet } from "../../src/rules/build.ts";
import { renderOptionsFor, renderRestore } from "../../src/rules/render.ts";
import { assert, assertEquals, assertStringIncludes } from "../assert.ts";
import { configForCase, factsForCase } from "../cases.ts";
import { type Netns, withNetns } from "../world/netns.ts";
import { ensureUser, KUMA_DP_UID } from "../world/users.ts";

const CLI = new URL("../../scripts/kuma-tproxy", import.meta.url).pathname;
const KUMA_DP = ["--kuma-dp-user", "kuma-dp"];

/** Runs the CLI in the namespace; returns exit code and both streams. */
async function kumaTproxy(ns: Netns, args: string[]) {
  const r = await ns.run(CLI, args);
  return { code: r.code, out: r.stdout, err: r.stderr };
}

/** A namespace with an IPv6 address besides loopback, so that both families are planned. */
function withDualStack<T>(fn: (ns: Netns) => Promise<T>): Promise<T> {
  return withNetns("st", async (ns) => {
    // No dummy module on our machines; a veth pair inside the namespace does the same.
    await ns.exec("ip", ["link", "add", "d0", "type", "veth", "peer", "name", "d1"]);
    await ns.exec("ip", ["link", "set", "d0", "up"]);
    await ns.exec("ip", ["addr", "add", "10.210.0.1/24", "dev", "d0"]);
    await ns.exec("ip", ["-6", "addr", "add", "fd00:210::1/64", "dev", "d0", "nodad"]);
    return await fn(ns);
  });
}

async function setup() {
  await ensureUser("kuma-dp", KUMA_DP_UID);
}

Deno.test("status exits 4 (not installed) when nothing is installed", async () => {
  await setup();
  await withDualStack(async (ns) => {
    const r = await kumaTproxy(ns, ["status", ...KUMA_DP]);
    assertEquals(r.code, 4, r.err);
    assertEquals(r.out, "IPv4: not installed (nft)\nIPv6: not installed (nft)\n");
  });
});

Deno.test("status exits 0 after install with the same config, and 3 with the drift named after a change", async () => {
  await setup();
  await withDualStack(async (ns) => {
    const install = await kumaTproxy(ns, ["install", ...KUMA_DP]);
    assertEquals(install.code, 0, install.err);

    const same = await kumaTproxy(ns, ["status", ...KUMA_DP]);
    assertEquals(same.code, 0, same.err);
    assertEquals(
      same.out,
      "IPv4: installed (nft), matches config\nIPv6: installed (nft), matches config\n",
    );

    const changed = await kumaTproxy(ns, [
      "status",
      ...KUMA_DP,
      "--redirect-inbound-port",
      "15007",
    ]);
    assertEquals(changed.code, 3, changed.err);
    assertStringIncludes(changed.out, "IPv4: installed (nft), differs from config");
    assertStringIncludes(changed.out, "IPv6: installed (nft), differs from config");
    assertStringIncludes(changed.out, "missing    nat: ");
    assertStringIncludes(changed.out, "--to-ports 15007");
    assertStringIncludes(changed.out, "unexpected nat: ");
    assertStringIncludes(changed.out, "--to-ports 15006");

    const json = await kumaTproxy(ns, [
      "status",
      ...KUMA_DP,
      "--redirect-inbound-port",
      "15007",
      "--json",
    ]);
    assertEquals(json.code, 3, json.err);
    const report = JSON.parse(json.out);
    assertEquals(report.state, "drift");
    assertEquals(report.families.map((f: { family: number }) => f.family), [4, 6]);
    const nat = report.families[0].drift.find((d: { table: string }) => d.table === "nat");
    assert(nat.missing.some((r: string) => r.includes("--to-ports 15007")));
    assert(nat.unexpected.some((r: string) => r.includes("--to-ports 15006")));
  });
});

Deno.test("status exits 3 when only IPv4 of a dual-stack plan is installed, and 0 for an IPv4-only config", async () => {
  await setup();
  await withDualStack(async (ns) => {
    const v4 = await kumaTproxy(ns, ["install", ...KUMA_DP, "--ip-family-mode", "ipv4"]);
    assertEquals(v4.code, 0, v4.err);
    const partial = await kumaTproxy(ns, ["status", ...KUMA_DP, "--json"]);
    assertEquals(partial.code, 3, partial.err);
    const report = JSON.parse(partial.out);
    assertEquals(
      report.families.map((
        f: { installed: boolean; matches: boolean },
      ) => [f.installed, f.matches]),
      [[true, true], [false, false]],
    );
    // With the config that was installed, it matches.
    const ipv4Only = await kumaTproxy(ns, ["status", ...KUMA_DP, "--ip-family-mode", "ipv4"]);
    assertEquals(ipv4Only.code, 0, ipv4Only.err);
    assertEquals(ipv4Only.out, "IPv4: installed (nft), matches config\n");
  });
});

Deno.test("status reports the legacy backend for rules loaded with iptables-legacy-restore", async () => {
  await setup();
  await withDualStack(async (ns) => {
    for (const family of [4, 6] as const) {
      const config = await configForCase("default");
      const facts = factsForCase("default", family);
      const text = renderRestore(
        buildRuleSet(config, facts).ruleSet,
        renderOptionsFor(config, facts.functionality),
      );
      await ns.exec(family === 4 ? "iptables-legacy-restore" : "ip6tables-legacy-restore", [
        "--noflush",
      ], text);
    }
    const r = await kumaTproxy(ns, ["status", ...KUMA_DP]);
    assertEquals(r.code, 0, r.err);
    assertEquals(
      r.out,
      "IPv4: installed (legacy), matches config\nIPv6: installed (legacy), matches config\n",
    );

    // The same rules in nft too: the kernel runs both, so that is drift.
    await ns.exec(
      "iptables-nft-restore",
      ["--noflush"],
      renderRestore(
        buildRuleSet(await configForCase("default"), factsForCase("default", 4)).ruleSet,
        { verbose: false, comments: true },
      ),
    );
    const both = await kumaTproxy(ns, ["status", ...KUMA_DP, "--json"]);
    assertEquals(both.code, 3, both.err);
    const report = JSON.parse(both.out);
    assertEquals(report.families[0].otherBackends.length, 1);
  });
});
