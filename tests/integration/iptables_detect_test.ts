/**
 * Backend detection and functionality probing against the real iptables
 * tools, inside throw-away network namespaces.
 */
import { assertEquals } from "../assert.ts";
import { defaultConfig } from "../../src/config/defaults.ts";
import { FULL_FUNCTIONALITY } from "../../src/rules/facts.ts";
import { detectAllExecutables, detectExecutables } from "../../src/iptables/executables.ts";
import {
  assertMinimumFunctionality,
  probeFunctionality,
} from "../../src/iptables/functionality.ts";
import { type Netns, withNetns } from "../world/netns.ts";
import { load, tools } from "./iptables_fixtures.ts";

/** Legacy tables loaded in the namespace (the file is absent until ip_tables is loaded at all). */
async function legacyTables(ns: Netns): Promise<string> {
  const r = await ns.run("sh", ["-c", "cat /proc/net/ip_tables_names 2>/dev/null; true"]);
  return r.stdout.trim();
}

Deno.test("detectExecutables() picks nft on a clean host without loading legacy tables", async () => {
  await withNetns("dn", async (ns) => {
    const r = await detectExecutables(ns.runner, defaultConfig());
    assertEquals([r.v4.mode, r.v6?.mode, r.v6?.family], ["nft", "nft", 6]);
    assertEquals(await legacyTables(ns), "");
  });
});

Deno.test("detectExecutables() picks legacy when only legacy holds rules, for both families", async () => {
  await withNetns("dl", async (ns) => {
    await load(ns, tools("legacy", 4), "*filter\n-A INPUT -p tcp --dport 22 -j ACCEPT\nCOMMIT\n");
    const r = await detectExecutables(ns.runner, defaultConfig());
    assertEquals([r.v4.mode, r.v6?.mode], ["legacy", "legacy"]);
    assertEquals(r.warnings, []);
  });
});

Deno.test("detectExecutables() follows DOCKER_OUTPUT when both backends hold rules", async () => {
  await withNetns("dd", async (ns) => {
    await load(ns, tools("legacy", 4), "*filter\n-A INPUT -j ACCEPT\nCOMMIT\n");
    await load(
      ns,
      tools("nft", 4),
      "*nat\n:DOCKER_OUTPUT - [0:0]\n-A OUTPUT -j DOCKER_OUTPUT\nCOMMIT\n",
    );
    assertEquals((await detectExecutables(ns.runner, defaultConfig())).v4.mode, "nft");
  });
});

Deno.test("detectAllExecutables() finds both backends of both families", async () => {
  await withNetns("da", async (ns) => {
    const r = await detectAllExecutables(ns.runner, defaultConfig());
    assertEquals(r.executables.map((e) => `${e.family}/${e.mode}`), [
      "4/nft",
      "4/legacy",
      "6/nft",
      "6/legacy",
    ]);
  });
});

for (const mode of ["nft", "legacy"] as const) {
  Deno.test(`probeFunctionality() sees a full Debian 12 backend and DOCKER_OUTPUT (${mode})`, async () => {
    await withNetns(`pf${mode[0]}`, async (ns) => {
      const exe = tools(mode, 4);
      const f = await probeFunctionality(ns.runner, exe);
      assertEquals(f, FULL_FUNCTIONALITY);
      assertMinimumFunctionality(f);
      await load(ns, exe, "*nat\n:DOCKER_OUTPUT - [0:0]\nCOMMIT\n");
      assertEquals((await probeFunctionality(ns.runner, exe)).dockerOutput, true);
    });
  });
}
