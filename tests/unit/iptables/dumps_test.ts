import { assertEquals, assertRejects } from "../../assert.ts";
import { LiveDumps } from "../../../src/iptables/dumps.ts";
import { ExecError } from "../../../src/iptables/errors.ts";
import type { Executables } from "../../../src/iptables/executables.ts";
import { fail, FakeRunner, ok } from "../os/fake_runner.ts";

const exe = (family: 4 | 6, mode: "nft" | "legacy" = "nft"): Executables => ({
  mode,
  family,
  iptables: `ip${family}${mode}`,
  save: `ip${family}${mode}-save`,
  restore: `ip${family}${mode}-restore`,
});

const NAT = (chain: string) => `*nat\n:OUTPUT ACCEPT [0:0]\n:${chain} - [0:0]\nCOMMIT\n`;

Deno.test("LiveDumps reads each backend once, and again after take or forget", async () => {
  let n = 0;
  const runner = new FakeRunner(() => ok(NAT(`C${++n}`)));
  const dumps = new LiveDumps(runner);
  const v4 = exe(4);
  const first = await dumps.read(v4);
  assertEquals(await dumps.read(v4), first);
  assertEquals(runner.calls.length, 1);
  // take hands out the kept dump, then forgets it: the taker changes the backend.
  assertEquals(await dumps.take(v4), first);
  const second = await dumps.read(v4);
  assertEquals(second.tables[0].chains[1].name, "C2");
  dumps.forget(v4);
  assertEquals((await dumps.read(v4)).tables[0].chains[1].name, "C3");
  dumps.forgetAll();
  assertEquals((await dumps.read(v4)).tables[0].chains[1].name, "C4");
  assertEquals(runner.lines(), Array(4).fill("ip4nft-save"));
});

Deno.test("LiveDumps keys by backend and family, prefetches side by side, keeps no failure", async () => {
  let failing = true;
  const runner = new FakeRunner(({ cmd }) =>
    cmd === "ip6legacy-save" && failing ? fail("can't initialize") : ok(NAT(cmd))
  );
  const dumps = new LiveDumps(runner);
  dumps.prefetch([exe(4), exe(6), exe(4, "legacy"), exe(6, "legacy")]);
  await dumps.settled();
  assertEquals(runner.calls.length, 4);
  assertEquals((await dumps.read(exe(6))).tables[0].chains[1].name, "ip6nft-save");
  assertEquals(runner.calls.length, 4);
  // A failed read reaches its reader, and the next reader tries again.
  await assertRejects(() => dumps.read(exe(6, "legacy")), ExecError);
  failing = false;
  assertEquals((await dumps.read(exe(6, "legacy"))).tables[0].chains[1].name, "ip6legacy-save");
  assertEquals(runner.calls.filter((c) => c.cmd === "ip6legacy-save").length, 3);
});

Deno.test("LiveDumps.firstRead() keeps the first read past a take, not past forget", async () => {
  let n = 0;
  const runner = new FakeRunner(() => ok(NAT(`C${++n}`)));
  const dumps = new LiveDumps(runner);
  const v4 = exe(4);
  const first = await dumps.take(v4);
  // Taken by the pretest, which only tests: install's decision needs no second read.
  assertEquals(await dumps.firstRead(v4), first);
  assertEquals(runner.calls.length, 1);
  dumps.forget(v4); // the save now prints something else
  assertEquals((await dumps.firstRead(v4)).tables[0].chains[1].name, "C2");
  dumps.forgetAll();
  assertEquals((await dumps.firstRead(v4)).tables[0].chains[1].name, "C3");
});
