/**
 * A legacy install and uninstall leave no table behind that the host did
 * not have (issue 13 item 7). Probing a legacy table with `-t` instantiates
 * it for good, so only the tables the rule set uses are probed: on a host
 * whose legacy filter and nat tables hold rules, the default config (nat
 * only) must leave `iptables-legacy-save` exactly as it was, table list
 * included, after install, status and uninstall, in both families.
 *
 * Needs root and `ip netns` (run with --allow-all).
 */
import { assertEquals, assertStringIncludes } from "../assert.ts";
import { type Netns, withNetns } from "../world/netns.ts";
import { addIPv6, ensureKumaDp, runCli } from "./cli_run.ts";
import { snapshot, tools } from "./iptables_fixtures.ts";

/** A host's own legacy rules, in filter and nat only. */
const HOST_RULES = `*filter
-A INPUT -p tcp --dport 22 -j ACCEPT
COMMIT
*nat
-A PREROUTING -p tcp --dport 8080 -j REDIRECT --to-ports 80
COMMIT
`;

async function legacy(ns: Netns): Promise<string> {
  return `${await snapshot(ns, tools("legacy", 4))}\n${await snapshot(ns, tools("legacy", 6))}`;
}

Deno.test("legacy install, status and uninstall leave the legacy table list as it was", async () => {
  await ensureKumaDp();
  await withNetns("tables", async (ns) => {
    await addIPv6(ns);
    for (const family of [4, 6] as const) {
      await ns.exec(tools("legacy", family).restore, ["--noflush"], HOST_RULES);
    }
    const before = await legacy(ns);
    assertEquals(before.includes("*mangle") || before.includes("*raw"), false, before);

    const install = await runCli(["install", "--kuma-dp-user", "5678"], { netns: ns });
    assertEquals(install.code, 0, install.stderr);
    assertStringIncludes(install.stdout, "IPv4 (legacy): installed 11 rules and 4 chains");
    assertStringIncludes(install.stdout, "IPv6 (legacy): installed 11 rules and 4 chains");
    const status = await runCli(["status", "--kuma-dp-user", "5678"], { netns: ns });
    assertEquals(status.code, 0, status.stdout + status.stderr);
    const uninstall = await runCli(["uninstall"], { netns: ns });
    assertEquals(uninstall.code, 0, uninstall.stderr);

    assertEquals(await legacy(ns), before);
  });
});
