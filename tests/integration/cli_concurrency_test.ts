/**
 * Our runs never interleave (issue 14 item 4): several legacy installs
 * started together in one namespace all succeed and leave exactly one
 * installation, because each holds the tool's own lock from reading the
 * live rules to the last change (src/ops/run_lock.ts), and a `--test` that
 * fails because the rules changed since they were read is planned again
 * (src/iptables/transaction.ts) instead of being reported as a bad rule.
 * Without both, a loser planned `-N KUMA_MESH_INBOUND` against a dump taken
 * before the winner created that chain. An uninstall racing the installs is
 * serialized the same way. The second test holds the lock from outside
 * (util-linux `flock`, the same flock(2) lock) and sees install wait for it.
 *
 * Needs root and `ip netns` (run with --allow-all).
 */
import { assert, assertEquals, assertStringIncludes } from "../assert.ts";
import { withNetns } from "../world/netns.ts";
import { addIPv6, ensureKumaDp, KUMA_TPROXY, REPO_ROOT, runCli } from "./cli_run.ts";
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

Deno.test("install waits for a run that holds /run/kuma-tproxy.lock, and says so", async () => {
  await ensureKumaDp();
  const dir = await Deno.makeTempDir({ prefix: "ktp-lock-" });
  const release = () => Deno.writeTextFile(`${dir}/release`, "");
  // A stand-in for another run: holds the lock until the test lets go (or
  // its temp dir is gone, so a failed test never leaves it holding).
  const holder = new Deno.Command("flock", {
    args: [
      "/run/kuma-tproxy.lock",
      "sh",
      "-c",
      `touch ${dir}/held; while [ -e ${dir}/held ] && [ ! -e ${dir}/release ]; do sleep 0.05; done`,
    ],
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    await withNetns("lock", async (ns) => {
      for (let i = 0; i < 200 && !(await exists(`${dir}/held`)); i++) await pause(25);
      assert(await exists(`${dir}/held`), "the holder got the lock");

      const install = new Deno.Command("ip", {
        args: ["netns", "exec", ns.name, KUMA_TPROXY, "install", "--kuma-dp-user", "5678"],
        cwd: REPO_ROOT,
        clearEnv: true,
        env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", HOME: Deno.env.get("HOME") ?? "/root" },
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const output = install.output();
      let exited = false;
      output.then(() => exited = true, () => exited = true);
      try {
        // Long enough for an unlocked install to finish: it must still be waiting.
        for (let i = 0; i < 30; i++) {
          await pause(100);
          assertEquals(exited, false, "install ran while another run held the lock");
          assertEquals((await snapshot(ns, tools("nft", 4))).includes("KUMA_MESH"), false);
        }
      } finally {
        await release();
      }
      const out = await output;
      const stderr = new TextDecoder().decode(out.stderr);
      assertEquals(out.code, 0, stderr);
      assertStringIncludes(
        stderr,
        "another kuma-tproxy run holds /run/kuma-tproxy.lock; waiting for it to finish",
      );
      assertStringIncludes(await snapshot(ns, tools("nft", 4)), "KUMA_MESH_OUTBOUND");
    });
  } finally {
    await release().catch(() => {});
    await holder.status;
    await Deno.remove(dir, { recursive: true });
  }
});

const pause = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}
