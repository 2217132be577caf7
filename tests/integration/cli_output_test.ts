/**
 * A stdout that cannot be written, through the real CLI: a pipe whose
 * reader is gone (`| head -3`, `| true`) and a full device (`> /dev/full`).
 * A finished change keeps its exit code, a broken pipe is never reported,
 * and nothing prints a stack trace (src/cli/output.ts).
 *
 * Needs root, `ip netns`, unshare/nsenter and overlayfs (run with --allow-all).
 */
import { assertEquals, assertStringIncludes } from "../assert.ts";
import { withNetns } from "../world/netns.ts";
import { withBootHost } from "../world/boot_host.ts";
import { KUMA_DP_UID } from "../world/world.ts";
import { ensureKumaDp, runCli } from "./cli_run.ts";

const FULL = "kuma-tproxy: could not write the output to stdout: No space left on device";
const USER = ["--kuma-dp-user", "5678", "--ip-family-mode", "ipv4"];

/** Only the run's own `# ...` lines: no error line, no stack trace. */
function assertNoError(stderr: string) {
  assertEquals(stderr.split("\n").filter((l) => l !== "" && !l.startsWith("# ")), [], stderr);
}

Deno.test("a closed pipe on stdout: --version, --help and config exit 0 and say nothing", async () => {
  for (const args of [["--version"], ["-V"], ["--help"], ["config"], ["completion", "bash"]]) {
    const r = await runCli(args, { stdout: "closed pipe" });
    assertEquals([r.code, r.stderr], [0, ""], args.join(" "));
  }
});

Deno.test("a full stdout: a command whose result is its output exits 1 and says why", async () => {
  for (const args of [["--version"], ["--help"], ["config", "--explain"]]) {
    const r = await runCli(args, { stdout: "/dev/full" });
    assertEquals(r.code, 1, args.join(" "));
    assertEquals(r.stderr.trimEnd().split("\n").at(-1)!.slice(0, FULL.length), FULL);
    assertEquals(r.stderr.includes("    at "), false, "no stack trace");
  }
});

Deno.test("a closed pipe on stdout: install and uninstall finish their change and exit 0", async () => {
  await ensureKumaDp();
  await withNetns("out", async (ns) => {
    const install = await runCli(["install", ...USER], { netns: ns, stdout: "closed pipe" });
    assertEquals(install.code, 0, install.stderr);
    assertNoError(install.stderr);
    const status = await runCli(["status", ...USER], { netns: ns });
    assertEquals(status.code, 0, status.stdout + status.stderr);

    const uninstall = await runCli(["uninstall", ...USER], { netns: ns, stdout: "closed pipe" });
    assertEquals(uninstall.code, 0, uninstall.stderr);
    assertNoError(uninstall.stderr);
    assertEquals((await runCli(["status", ...USER], { netns: ns })).code, 4, "nothing left");
  });
});

Deno.test("a full stdout: install --store-systemd keeps its rules and unit, exits 0 and says the output was lost", async () => {
  await withBootHost(async (h) => {
    const flags = ["--kuma-dp-user", String(KUMA_DP_UID), "--store-systemd"];
    const r = await h.cli(["install", ...flags], { stdout: "/dev/full" });
    assertEquals(r.code, 0, r.stderr);
    assertStringIncludes(r.stderr, FULL);
    assertEquals(r.stderr.includes("    at "), false, "no stack trace");
    assertStringIncludes(
      await Deno.readTextFile(h.path("/etc/systemd/system/kuma-tproxy.service")),
      "ExecStart=",
    );
    const status = await h.cli(["status", ...flags]);
    assertEquals(status.code, 0, status.stdout + status.stderr);
  });
});

Deno.test("a full stdout: status keeps its answer, the exit code", async () => {
  await ensureKumaDp();
  await withNetns("out", async (ns) => {
    const r = await runCli(["status", ...USER], { netns: ns, stdout: "/dev/full" });
    assertEquals(r.code, 4, r.stderr);
    assertStringIncludes(r.stderr, FULL);
  });
});

Deno.test("a full stderr: messages are dropped, the result and the exit code stay", async () => {
  await ensureKumaDp();
  await withNetns("err", async (ns) => {
    // As nobody, a dry run warns on stderr before it prints the rules.
    const dry = await runCli(["install", "--dry-run", ...USER], {
      netns: ns,
      uid: 65534,
      stderr: "/dev/full",
    });
    assertEquals(dry.code, 0);
    assertStringIncludes(dry.stdout, "### IPv4 ###");
    // A config error still exits 2 with nowhere to say why.
    const bad = await runCli(["config", "--redirect-dns-port", "0"], { stderr: "/dev/full" });
    assertEquals([bad.code, bad.stdout], [2, ""]);
  });
});
