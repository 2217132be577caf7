import { assertEquals, assertRejects } from "../../assert.ts";
import { ExecError } from "../../../src/iptables/errors.ts";
import type { Executables } from "../../../src/iptables/executables.ts";
import {
  restoreOnce,
  type RestoreOptions,
  retryableApply,
  retryableTest,
  waitFlags,
  withRetries,
} from "../../../src/iptables/restore_exec.ts";
import { fail, FakeRunner, ok } from "../os/fake_runner.ts";

const legacy: Executables = {
  mode: "legacy",
  family: 4,
  iptables: "ipt",
  save: "ipt-save",
  restore: "ipt-restore",
};
const LOCK =
  "Another app is currently holding the xtables lock. Perhaps you want to use the -w option?\n";

Deno.test("waitFlags() passes only positive values, only to legacy", () => {
  assertEquals(waitFlags("legacy", 5, 0), ["--wait=5"]);
  assertEquals(waitFlags("legacy", 5, 100), ["--wait=5", "--wait-interval=100"]);
  assertEquals(waitFlags("legacy", 0, 0), []);
  assertEquals(waitFlags("legacy", 0, 7), ["--wait-interval=7"]);
  assertEquals(waitFlags("nft", 5, 100), []);
});

Deno.test("restoreOnce() sends the input on stdin with --noflush and wait flags", async () => {
  const runner = new FakeRunner(() => ok());
  await restoreOnce(runner, legacy, "*nat\nCOMMIT\n", { wait: 3, waitInterval: 0, test: true });
  assertEquals(runner.calls, [{
    cmd: "ipt-restore",
    args: ["--wait=3", "--noflush", "--test"],
    stdin: "*nat\nCOMMIT\n",
  }]);
  await restoreOnce(runner, { ...legacy, mode: "nft" }, "x", { wait: 3, waitInterval: 9 });
  assertEquals(runner.calls[1].args, ["--noflush"]);
});

Deno.test("restoreOnce() throws an ExecError naming the failing line", async () => {
  const runner = new FakeRunner(() => fail("iptables-restore: line 2 failed\n"));
  const e = await assertRejects(
    () =>
      restoreOnce(runner, legacy, "*nat\n-A OUTPUT -j NOPE\nCOMMIT\n", {
        wait: 0,
        waitInterval: 0,
      }),
    ExecError,
  );
  assertEquals([e.code, e.rule, e.command], ["bad_rule", "-A OUTPUT -j NOPE", [
    "ipt-restore",
    "--noflush",
  ]]);
});

Deno.test("restoreOnce() reports an executable that cannot start as not_found", async () => {
  const e = await assertRejects(
    () => restoreOnce(new FakeRunner(() => undefined), legacy, "", { wait: 0, waitInterval: 0 }),
    ExecError,
  );
  assertEquals(e.code, "not_found");
});

function opts(slept: number[], maxRetries = 4): RestoreOptions {
  return {
    wait: 0,
    waitInterval: 0,
    maxRetries,
    sleepMs: 2000,
    sleep: (ms) => {
      slept.push(ms);
      return Promise.resolve();
    },
  };
}

Deno.test("withRetries() makes maxRetries+1 attempts with a sleep between each", async () => {
  const slept: number[] = [];
  let n = 0;
  const e = await assertRejects(
    () =>
      withRetries("x", opts(slept, 2), retryableApply, () => {
        n++;
        throw new ExecError({ command: ["r"], exitCode: 4, stderr: LOCK });
      }),
    ExecError,
  );
  assertEquals([n, slept, e.code], [3, [2000, 2000], "lock_held"]);
});

Deno.test("withRetries() stops as soon as an attempt succeeds", async () => {
  const slept: number[] = [];
  let n = 0;
  const r = await withRetries("x", opts(slept), retryableApply, () => {
    if (++n < 2) throw new ExecError({ command: ["r"], exitCode: 4, stderr: LOCK });
    return Promise.resolve("done");
  });
  assertEquals([r, n, slept], ["done", 2, [2000]]);
});

Deno.test("withRetries() does not retry what waiting cannot fix", async () => {
  for (
    const [stderr, retryable] of [
      ["Permission denied (you must be root)", retryableApply],
      ["line 2 failed", retryableTest],
    ] as const
  ) {
    const slept: number[] = [];
    let n = 0;
    await assertRejects(
      () =>
        withRetries("x", opts(slept), retryable, () => {
          n++;
          throw new ExecError({ command: ["r"], exitCode: 1, stderr });
        }),
      ExecError,
    );
    assertEquals([n, slept], [1, []]);
  }
});
