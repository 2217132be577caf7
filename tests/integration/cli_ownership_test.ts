/**
 * Ownership through the real CLI (issue 14 item 1): a foreign rule whose
 * comment merely starts like our tag (`kuma/mesh/transparent/proxyX`, or the
 * bare tag) and a foreign chain `KUMA_MESHY` survive install, re-install and
 * uninstall, on both backends and in both families.
 *
 * Needs root and `ip netns` (run with --allow-all).
 */
import { assertEquals, assertStringIncludes } from "../assert.ts";
import { type Netns, withNetns } from "../world/netns.ts";
import { addIPv6, ensureKumaDp, runCli } from "./cli_run.ts";
import { MODES, snapshot, tools } from "./iptables_fixtures.ts";

/** Rules an admin wrote, in the tables and chains ours go to, that look like ours but are not. */
const LOOKALIKES = `*nat
:KUMA_MESHY - [0:0]
-A OUTPUT -p tcp --dport 9999 -m comment --comment "kuma/mesh/transparent/proxyX admin" -j ACCEPT
-A OUTPUT -p tcp --dport 9998 -m comment --comment "kuma/mesh/transparent/proxy" -j ACCEPT
-A PREROUTING -p tcp --dport 9997 -j KUMA_MESHY
-A KUMA_MESHY -m comment --comment "kuma/mesh/transparent/proxy-old" -j RETURN
COMMIT
*filter
-A OUTPUT -m comment --comment "kuma/mesh/transparent/proxyX admin" -j ACCEPT
COMMIT
`;

/**
 * Rules and user chains of both families, per table. Empty tables are left
 * out: which tables exist is cli_tables_test.ts's subject.
 */
async function both(ns: Netns, mode: (typeof MODES)[number]): Promise<string> {
  const lines: string[] = [];
  for (const family of [4, 6] as const) {
    let table = "";
    for (const line of (await snapshot(ns, tools(mode, family))).split("\n")) {
      if (line.startsWith("*")) table = line;
      if (line.startsWith("-A") || /^:\S+ -$/.test(line)) {
        lines.push(`IPv${family} ${table} ${line}`);
      }
    }
  }
  return lines.join("\n");
}

for (const mode of MODES) {
  Deno.test(`install and uninstall keep foreign look-alike rules and chains (${mode})`, async () => {
    await ensureKumaDp();
    await withNetns("own", async (ns) => {
      await addIPv6(ns);
      for (const family of [4, 6] as const) {
        await ns.exec(tools(mode, family).restore, ["--noflush"], LOOKALIKES);
      }
      const before = await both(ns, mode);
      const cli = (args: string[]) => runCli(args, { netns: ns });

      // Each round changes the config (an unchanged re-install would write nothing:
      // cli_unchanged_test.ts), so each replaces the rules with the look-alikes there.
      const rounds: [string, string[]][] = [
        ["install", []],
        ["re-install", ["--exclude-inbound-ports", "4321"]],
        ["re-install as first", []],
      ];
      for (const [round, more] of rounds) {
        const r = await cli(["install", "--kuma-dp-user", "5678", ...more]);
        assertEquals(r.code, 0, `${round}: ${r.stdout}${r.stderr}`);
        // A first install has nothing to replace: the look-alikes are not an earlier installation.
        if (round === "install") {
          assertEquals(r.stderr.includes("replaced an earlier"), false, r.stderr);
        }
        assertStringIncludes(r.stdout, `IPv6 (${mode}): installed`);
        const live = await both(ns, mode);
        for (const line of before.split("\n")) {
          assertStringIncludes(live, line, `${round} dropped it`);
        }
      }
      const status = await cli(["status", "--kuma-dp-user", "5678"]);
      assertEquals(status.code, 0, status.stdout + status.stderr);

      const u = await cli(["uninstall"]);
      assertEquals(u.code, 0, u.stdout + u.stderr);
      assertEquals(await both(ns, mode), before);
      const again = await cli(["uninstall"]);
      assertEquals(again.code, 0, again.stderr);
      assertStringIncludes(again.stdout, "no transparent proxy rules found");
    });
  });
}
