/**
 * scripts/demo.sh, the README's first command, run as a user would: it must
 * finish well within a minute, show the redirects and the way back, and
 * leave none of its namespaces behind.
 *
 * Needs root and `ip netns` (run with --allow-all).
 */
import { assert, assertEquals, assertMatch, assertStringIncludes } from "../assert.ts";
import { DNS_ANSWERS } from "../world/world.ts";
import { REPO_ROOT } from "./cli_run.ts";

Deno.test("scripts/demo.sh shows the redirects, status, uninstall, and cleans up", async () => {
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

  assertMatch(stdout, /ok +inbound .* -> sidecar:15006 orig=\S+:8080/);
  assertMatch(stdout, /ok +outbound +app .* -> sidecar:15001 orig=\S+:9090/);
  assertMatch(stdout, new RegExp(`ok +DNS .* -> ${DNS_ANSWERS.standinA.replaceAll(".", "\\.")}`));
  assertStringIncludes(stdout, "answered by the stand-in DNS proxy on port 15053");
  // status exits 0 only when the rules are installed and match the config.
  const status = stdout.slice(stdout.indexOf("kuma-tproxy status"), stdout.indexOf("5. Uninstall"));
  assertStringIncludes(status, "IPv4");
  assertStringIncludes(status, "(exit 0)");
  assertStringIncludes(stdout, "transparent proxy rules removed");
  const after = stdout.slice(stdout.indexOf("After uninstall"));
  assertMatch(after, /ok +inbound .* -> host-app/);
  assertMatch(after, /ok +outbound +app .* -> peer-service/);
  assertStringIncludes(stdout, "Demo OK.");

  const [, hostNs, peerNs] = stdout.match(/namespaces (\S+) and (\S+) deleted/) ?? [];
  assert(hostNs && peerNs, "the demo names the namespaces it deleted");
  const list = await new Deno.Command("ip", { args: ["netns", "list"], stdout: "piped" }).output();
  const left = new TextDecoder().decode(list.stdout);
  assert(!left.includes(hostNs) && !left.includes(peerNs), `namespaces left behind:\n${left}`);
});
