import { assertEquals, assertRejects, assertStringIncludes } from "../../assert.ts";
import { planRemoval, renderRemoval } from "../../../src/iptables/cleanup.ts";
import { UnsafeStateError } from "../../../src/iptables/errors.ts";
import type { Executables } from "../../../src/iptables/executables.ts";
import { parseSave } from "../../../src/iptables/save_parser.ts";
import { readInstalled, uninstallAll, UninstallError } from "../../../src/iptables/uninstall.ts";
import { fail, FakeRunner, ok } from "../os/fake_runner.ts";

const C = (t: string) => `-m comment --comment "kuma/mesh/transparent/proxy/${t}"`;
const exe = (family: 4 | 6, mode: "nft" | "legacy"): Executables => ({
  mode,
  family,
  iptables: `ip${family}-${mode}`,
  save: `ip${family}-${mode}-save`,
  restore: `ip${family}-${mode}-restore`,
});
const OURS =
  `*nat\n:OUTPUT ACCEPT [0:0]\n:KUMA_MESH_OUTBOUND - [0:0]\n-A OUTPUT ${
    C("x")
  } -j KUMA_MESH_OUTBOUND\n` +
  "-A OUTPUT -j ACCEPT\n-A KUMA_MESH_OUTBOUND -j RETURN\nCOMMIT\n";
const FOREIGN = "*nat\n:OUTPUT ACCEPT [0:0]\n-A OUTPUT -j ACCEPT\nCOMMIT\n";
const opts = { wait: 5, waitInterval: 0, maxRetries: 0, sleepMs: 0 };

Deno.test("uninstallAll() removes ours from every backend that has any", async () => {
  const dumps: Record<string, string> = {
    "ip4-nft-save": OURS,
    "ip4-legacy-save": OURS,
    "ip6-nft-save": FOREIGN,
  };
  const runner = new FakeRunner((c) => ok(c.cmd.endsWith("-save") ? dumps[c.cmd] : ""));
  const report = await uninstallAll(runner, [exe(4, "nft"), exe(4, "legacy"), exe(6, "nft")], opts);
  assertEquals(report.backends.map((b) => [b.family, b.mode, b.removed.length]), [[4, "nft", 3], [
    4,
    "legacy",
    3,
  ], [6, "nft", 0]]);
  const restores = runner.calls.filter((c) => c.cmd.endsWith("-restore"));
  assertEquals(restores.map((c) => [c.cmd, c.args.join(" ")]), [
    ["ip4-nft-restore", "--noflush"],
    ["ip4-legacy-restore", "--wait=5 --noflush"],
  ]);
  assertEquals(restores[0].stdin, renderRemoval(planRemoval(parseSave(OURS))));
});

Deno.test("uninstallAll() in dry-run lists and changes nothing", async () => {
  const runner = new FakeRunner((c) => ok(c.cmd.endsWith("-save") ? OURS : ""));
  const report = await uninstallAll(runner, [exe(4, "nft")], { ...opts, dryRun: true });
  assertEquals(report.backends[0].removed, [
    `-t nat -D OUTPUT ${C("x")} -j KUMA_MESH_OUTBOUND`,
    "-t nat -D KUMA_MESH_OUTBOUND -j RETURN",
    "-t nat -X KUMA_MESH_OUTBOUND",
  ]);
  assertEquals(runner.calls.filter((c) => c.cmd.endsWith("-restore")).length, 0);
});

Deno.test("uninstallAll() checks every backend before changing any", async () => {
  const unsafe = "*nat\n:OUTPUT ACCEPT\n:KUMA_MESH_X -\n-A OUTPUT -j KUMA_MESH_X\nCOMMIT\n";
  const runner = new FakeRunner((c) =>
    ok(c.cmd === "ip6-nft-save" ? unsafe : c.cmd.endsWith("-save") ? OURS : "")
  );
  await assertRejects(
    () => uninstallAll(runner, [exe(4, "nft"), exe(6, "nft")], opts),
    UnsafeStateError,
  );
  assertEquals(runner.calls.filter((c) => c.cmd.endsWith("-restore")).length, 0);
});

Deno.test("uninstallAll() goes on after a failing backend and reports it", async () => {
  const runner = new FakeRunner((c) => {
    if (c.cmd.endsWith("-save")) return ok(OURS);
    return c.cmd === "ip4-nft-restore" ? fail("iptables-restore: line 2 failed") : ok();
  });
  const e = await assertRejects(
    () => uninstallAll(runner, [exe(4, "nft"), exe(6, "nft")], opts),
    UninstallError,
  );
  assertEquals(e.report.backends.map((b) => [b.family, b.error?.name]), [[4, "ExecError"], [
    6,
    undefined,
  ]]);
  assertEquals(runner.calls.filter((c) => c.cmd === "ip6-nft-restore").length, 1);
});

Deno.test("readInstalled() reports our live chains and rules", async () => {
  const r = await readInstalled(new FakeRunner(() => ok(OURS)), exe(4, "nft"));
  assertEquals(r, {
    installed: true,
    ourRules: [
      "-t nat -N KUMA_MESH_OUTBOUND",
      `-t nat -A OUTPUT ${C("x")} -j KUMA_MESH_OUTBOUND`,
      "-t nat -A KUMA_MESH_OUTBOUND -j RETURN",
    ],
  });
  assertEquals(
    (await readInstalled(new FakeRunner(() => ok(FOREIGN)), exe(4, "nft"))).installed,
    false,
  );
});

Deno.test("uninstallAll() cleans the readable backends when one cannot be read, then reports it", async () => {
  const runner = new FakeRunner((c) =>
    c.cmd === "ip6-nft-save" ? fail("broken") : ok(c.cmd.endsWith("-save") ? OURS : "")
  );
  const e = await assertRejects(
    () => uninstallAll(runner, [exe(4, "nft"), exe(6, "nft")], opts),
    UninstallError,
  );
  assertEquals(
    e.report.backends.map((b) => [b.family, b.inspected, b.removed.length, b.error !== undefined]),
    [[4, true, 3, false], [6, false, 0, true]],
  );
  assertEquals(runner.calls.filter((c) => c.cmd.endsWith("-restore")).map((c) => c.cmd), [
    "ip4-nft-restore",
  ]);
  assertStringIncludes(e.message, "IPv6 nft: cannot read the rules");
  assertStringIncludes(e.message, "removed from IPv4 nft (3 entries)");
});
