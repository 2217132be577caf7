/**
 * An interrupt during apply leaves the old installation or the new one,
 * never a mix (issue 4). A slowed-down ip6tables-restore holds the CLI in
 * the IPv6 step after IPv4 has already switched; SIGINT arrives then. The
 * CLI finishes the step, rolls both families back, and exits non-zero.
 *
 * The wrapper lives in a temp dir, which the binary's permission set does
 * not allow to run, so this test runs src/main.ts with --allow-all.
 */
import { assert, assertEquals, assertNotEquals, assertStringIncludes } from "../assert.ts";
import { type Netns, withNetns } from "../world/netns.ts";
import { snapshot, tools } from "./iptables_fixtures.ts";
import { addIPv6, ensureKumaDp, REPO_ROOT } from "./cli_run.ts";

/** Both families of the nft backend, counters stripped. */
async function saves(ns: Netns): Promise<string> {
  return await snapshot(ns, tools("nft", 4)) + "\n" + await snapshot(ns, tools("nft", 6));
}

Deno.test("install interrupted by SIGINT during IPv6 puts the old installation back in both families", async () => {
  await ensureKumaDp();
  const dir = await Deno.makeTempDir({ prefix: "ktp-interrupt-" });
  const marker = `${dir}/applying`;
  const release = `${dir}/release`;
  const wrapper = `${dir}/ip6tables-restore`;
  // Answers --version and --test at once (detection and validation). Before a
  // real apply it tells the test it got there, then holds the apply until the
  // test has sent SIGINT and releases it (bounded, so a broken test cannot hang).
  await Deno.writeTextFile(
    wrapper,
    `#!/bin/bash
case " $* " in
  *" --version "*|*" --test "*) ;;
  *) touch ${marker}
     for _ in $(seq 600); do [ -e ${release} ] && break; sleep 0.05; done ;;
esac
exec /usr/sbin/ip6tables-nft-restore "$@"
`,
  );
  await Deno.chmod(wrapper, 0o755);
  const executables = [
    "iptables:/usr/sbin/iptables-nft",
    "iptables-save:/usr/sbin/iptables-nft-save",
    "iptables-restore:/usr/sbin/iptables-nft-restore",
    "ip6tables:/usr/sbin/ip6tables-nft",
    "ip6tables-save:/usr/sbin/ip6tables-nft-save",
    `ip6tables-restore:${wrapper}`,
  ].join(",");
  const deno = `${REPO_ROOT}/scripts/deno`;
  const main = `${REPO_ROOT}/src/main.ts`;
  try {
    await withNetns("intr", async (ns) => {
      await addIPv6(ns);
      const cli = (args: string[]) =>
        new Deno.Command("ip", {
          args: ["netns", "exec", ns.name, deno, "run", "--quiet", "--allow-all", main, ...args],
          stdout: "piped",
          stderr: "piped",
        });
      // The old installation.
      const old = await cli(["install", "--kuma-dp-user", "5678"]).output();
      assertEquals(old.code, 0, new TextDecoder().decode(old.stderr));
      const before = await saves(ns);

      const child = cli([
        "install",
        "--kuma-dp-user",
        "5678",
        "--redirect-inbound-port",
        "15007",
        "--iptables-executables",
        executables,
      ]).spawn();
      // Wait until IPv4 is switched and the IPv6 apply is under way.
      for (let i = 0; i < 200; i++) {
        try {
          await Deno.stat(marker);
          break;
        } catch {
          await new Promise((r) => setTimeout(r, 50));
        }
      }
      await Deno.stat(marker);
      const during = await snapshot(ns, tools("nft", 4));
      assertStringIncludes(during, "--to-ports 15007", "IPv4 should already hold the new rules");
      child.kill("SIGINT");
      // Release the apply only once the CLI has said it saw the signal, so the
      // test does not depend on how fast the signal handler runs.
      let stderr = "";
      const decoder = new TextDecoder();
      const reader = child.stderr.getReader();
      while (!stderr.includes("interrupted")) {
        const { value, done } = await reader.read();
        if (done) break;
        stderr += decoder.decode(value, { stream: true });
      }
      await Deno.writeTextFile(release, "");
      for (let r = await reader.read(); !r.done; r = await reader.read()) {
        stderr += decoder.decode(r.value, { stream: true });
      }
      const out = await child.status;
      await child.stdout.cancel();
      assertNotEquals(out.code, 0, stderr);
      assertStringIncludes(stderr, "interrupted");
      assert(!/Stack|at file:/.test(stderr), stderr);
      assertEquals(await saves(ns), before, stderr);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
