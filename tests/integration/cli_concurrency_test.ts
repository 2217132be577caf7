/**
 * Our runs never interleave (issue 14 item 4): several legacy installs
 * started together in one namespace all succeed and leave exactly one
 * installation, because each holds the tool's own lock from reading the
 * live rules to the last change (src/cli/run_lock.ts). Without it, a loser
 * planned `-N KUMA_MESH_INBOUND` against a dump taken before the winner
 * created that chain, and was told its rules were bad. An uninstall racing
 * the installs is serialized the same way.
 *
 * Needs root and `ip netns` (run with --allow-all).
 */
import { assertEquals } from "../assert.ts";
import { withNetns } from "../world/netns.ts";
import { addIPv6, ensureKumaDp, runCli } from "./cli_run.ts";
import { snapshot, tools } from "./iptables_fixtures.ts";

const LEGACY = [
  "--iptables-executables",
  ["iptables", "ip6tables"].flatMap((base) =>
    ["", "-save", "-restore"].map((tool) => `${base}${tool}:/usr/sbin/${base}-legacy${tool}`)
  ).join(","),
];
const PARALLEL = 6;
const ROUNDS = 3;

Deno.test("concurrent legacy installs all succeed and leave one installation", async () => {
  await ensureKumaDp();
  await withNetns("race", async (ns) => {
    await addIPv6(ns);
    const install = ["install", "--kuma-dp-user", "5678", ...LEGACY];
    const first = await runCli(install, { netns: ns });
    assertEquals(first.code, 0, first.stderr);
    const once = `${await snapshot(ns, tools("legacy", 4))}\n${await snapshot(
      ns,
      tools("legacy", 6),
    )}`;
    for (let round = 1; round <= ROUNDS; round++) {
      // Round 1 starts from an installation, round 2 from nothing, round 3 races an uninstall.
      if (round === 2) assertEquals((await runCli(["uninstall"], { netns: ns })).code, 0);
      const runs = Array.from({ length: PARALLEL }, () => runCli(install, { netns: ns }));
      if (round === 3) runs.push(runCli(["uninstall"], { netns: ns }));
      const results = await Promise.all(runs);
      for (const [i, r] of results.entries()) {
        assertEquals(r.code, 0, `round ${round}, run ${i}:\n${r.stdout}${r.stderr}`);
      }
      if (round === 3) await runCli(install, { netns: ns });
      const now = `${await snapshot(ns, tools("legacy", 4))}\n${await snapshot(
        ns,
        tools("legacy", 6),
      )}`;
      assertEquals(now, once, `round ${round}: one installation, not several`);
    }
  });
});
