/**
 * `verify` through cli() in memory: what it does before any packet (the
 * root check, the JSON error object, usage errors). The probes themselves
 * run in tests/integration/cli_verify_test.ts.
 */
import { assertEquals } from "../../assert.ts";
import { cli } from "../../../src/cli/cli.ts";
import { EXIT } from "../../../src/ops/exit_codes.ts";
import { memoryHost } from "./_memory_host.ts";

Deno.test("cli() verify as non-root: one root error, exit 1, nothing run", async () => {
  const h = await memoryHost({ uid: 1000 });
  assertEquals(await cli(["verify"], h.io), EXIT.FAILURE);
  assertEquals(h.out(), "");
  assertEquals(
    h.err(),
    "kuma-tproxy: verify needs root privileges: it sends probes as kuma-dp's UID and as another user; run it as root\n",
  );
  assertEquals(h.runner.calls, []);
});

Deno.test("cli() verify --json prints an error object when it cannot run", async () => {
  const h = await memoryHost({ uid: 1000 });
  assertEquals(await cli(["verify", "--json"], h.io), EXIT.FAILURE);
  const report = JSON.parse(h.out());
  assertEquals([report.state, report.exitCode], ["error", 1]);
  assertEquals(h.runner.calls, []);
});

Deno.test("cli() verify takes no target, and --verify belongs to install only", async () => {
  const h = await memoryHost();
  assertEquals(await cli(["verify", "transparent-proxy"], h.io), EXIT.USAGE);
  assertEquals(h.runner.calls, []);
  const bad = await memoryHost();
  assertEquals(await cli(["status", "--verify"], bad.io), EXIT.USAGE);
  assertEquals(bad.runner.calls, []);
});
