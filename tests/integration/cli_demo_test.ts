/**
 * scripts/demo.sh, the README's first command, run as a user would: it must
 * finish well within a minute, run the README's Universal VM walkthrough
 * command by command (scripts/walkthrough.ts; tests/unit/scripts/
 * walkthrough_test.ts keeps that list equal to the README), show the
 * redirects and the way back, and leave none of its namespaces, and nothing
 * in the machine's /etc, behind.
 *
 * Needs root and `ip netns` (run with --allow-all).
 */
import { assert, assertEquals, assertMatch, assertStringIncludes } from "../assert.ts";
import { DNS_ANSWERS } from "../world/world.ts";
import { REPO_ROOT } from "./cli_run.ts";
import { WALKTHROUGH } from "../../scripts/walkthrough.ts";

async function exists(path: string): Promise<boolean> {
  return await Deno.lstat(path).then(() => true, () => false);
}

Deno.test("scripts/demo.sh runs the README's VM walkthrough, shows the redirects, and cleans up", async () => {
  const passwd = await Deno.readTextFile("/etc/passwd");
  const hadConfigDir = await exists("/etc/kuma-tproxy");
  const started = Date.now();
  const out = await new Deno.Command(`${REPO_ROOT}/scripts/demo.sh`, {
    cwd: REPO_ROOT,
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(60_000),
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  const stderr = new TextDecoder().decode(out.stderr);
  assertEquals(out.code, 0, `${stdout}\n${stderr}`);
  assert(Date.now() - started < 60_000, "the demo took a minute or more");

  // Every step of the walkthrough, as the README writes it, in order; each
  // command the demo runs itself exits 0.
  let at = 0;
  for (const step of WALKTHROUGH) {
    const i = stdout.indexOf(`\n$ ${step.command}\n`, at);
    assert(i > at, `step missing or out of order: ${step.command}\n${stdout}`);
    at = i + 1;
    if (step.kind === "run") {
      assertMatch(stdout.slice(at), /^\$ [^\n]*\n(?: {4}[^\n]*\n)*? {4}\(exit 0\)\n/);
    }
  }
  assertStringIncludes(stdout, "wrote /etc/kuma-tproxy/kuma-dp.yaml");
  assertStringIncludes(stdout, "systemd: enabled kuma-tproxy.service");
  assertStringIncludes(stdout, "stand-in for kuma-dp");
  assertStringIncludes(stdout, "outbound 15001, inbound 15006, DNS 15053");
  const verify = stdout.slice(
    stdout.indexOf("$ kuma-tproxy verify"),
    stdout.indexOf("Traffic now"),
  );
  assertMatch(verify, /ok outbound IPv4: redirected to port 15001/);
  assertStringIncludes(verify, "(exit 0)");

  assertMatch(stdout, /ok +inbound .* -> sidecar:15006 orig=\S+:8080/);
  assertMatch(stdout, /ok +outbound +app .* -> sidecar:15001 orig=\S+:9090/);
  assertMatch(stdout, new RegExp(`ok +DNS .* -> ${DNS_ANSWERS.standinA.replaceAll(".", "\\.")}`));
  assertStringIncludes(stdout, "answered by the stand-in DNS proxy on port 15053");
  assertStringIncludes(stdout, "transparent proxy rules removed");
  assertStringIncludes(stdout, "systemd: removed /etc/systemd/system/kuma-tproxy.service");
  const after = stdout.slice(stdout.indexOf("After uninstall"));
  assertMatch(after, /ok +inbound .* -> host-app/);
  assertMatch(after, /ok +outbound +app .* -> peer-service/);
  assertStringIncludes(stdout, "Demo OK.");

  const [, hostNs, peerNs] = stdout.match(/namespaces (\S+) and (\S+) deleted/) ?? [];
  assert(hostNs && peerNs, "the demo names the namespaces it deleted");
  const list = await new Deno.Command("ip", { args: ["netns", "list"], stdout: "piped" }).output();
  const left = new TextDecoder().decode(list.stdout);
  assert(!left.includes(hostNs) && !left.includes(peerNs), `namespaces left behind:\n${left}`);
  // useradd, /etc/kuma-tproxy and the unit went to the demo's private /etc.
  assertEquals(await Deno.readTextFile("/etc/passwd"), passwd);
  assertEquals(await exists("/etc/kuma-tproxy"), hadConfigDir);
  assert(!(await exists("/etc/systemd/system/kuma-tproxy.service")), "the unit is on the machine");
});
