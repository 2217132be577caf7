/**
 * The kumactl differences that stay (issue 21 item 12; docs/kumactl.md
 * K8.15-K8.18), as the README's table states them, through cli().
 */
import { assertEquals, assertStringIncludes } from "../../assert.ts";
import { cli } from "../../../src/cli/cli.ts";
import { EXIT } from "../../../src/ops/exit_codes.ts";
import { memoryHost } from "./_memory_host.ts";

Deno.test("--redirect-inbound false (two words) is refused; --redirect-inbound=false turns inbound off (K8.15)", async () => {
  const two = await memoryHost({ uid: 1000 });
  const args = ["install", "--dry-run", "--kuma-dp-user", "5678", "--redirect-inbound", "false"];
  assertEquals(await cli(args, two.io), EXIT.USAGE);
  assertEquals(two.out(), "");
  assertStringIncludes(two.err(), "'false'");
  const one = await memoryHost({ uid: 1000 });
  assertEquals(await cli(["config", "--redirect-inbound=false"], one.io), EXIT.OK, one.err());
  assertStringIncludes(one.out(), "  inbound:\n    enabled: false\n");
});

Deno.test("--config a.yaml,b.yaml reads both files, in order (K8.16)", async () => {
  const h = await memoryHost({
    uid: 1000,
    files: {
      "/a.yaml": "redirect:\n  dns:\n    port: 8888\n  inbound:\n    port: 16006\n",
      "/b.yaml": "redirect:\n  dns:\n    port: 9999\n",
    },
  });
  assertEquals(await cli(["config", "--config", "/a.yaml,/b.yaml"], h.io), EXIT.OK, h.err());
  assertStringIncludes(h.out(), "    port: 9999\n");
  assertStringIncludes(h.out(), "    port: 16006\n");
});

Deno.test("UIDs above 65535 in UID exclusions are accepted up to 4294967294 (K8.18)", async () => {
  const h = await memoryHost({ uid: 1000 });
  const args = ["config", "--exclude-outbound-ports-for-uids", "70000;udp:53:100000-4294967294"];
  assertEquals(await cli(args, h.io), EXIT.OK, h.err());
  assertStringIncludes(h.out(), '      - "70000"\n');
  const over = await memoryHost({ uid: 1000 });
  const bad = ["config", "--exclude-outbound-ports-for-uids", "4294967295"];
  assertEquals(await cli(bad, over.io), EXIT.USAGE);
});
