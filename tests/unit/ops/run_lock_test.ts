import { assertEquals } from "../../assert.ts";
import { majorMinor, parseLockHolders } from "../../../src/ops/run_lock.ts";
import { waitLimits } from "../../../src/ops/waits.ts";

Deno.test("majorMinor splits st_dev as glibc does", () => {
  assertEquals(majorMinor(65024), [254, 0]); // 0xfe00
  assertEquals(majorMinor(0x1a), [0, 26]); // tmpfs 0:26
  // A large minor: the high bits of minor sit above bit 20.
  assertEquals(majorMinor(0x12345678), [0x456, 0x12378]);
});

Deno.test("parseLockHolders keeps the holders of that file, not its waiters nor other files", () => {
  const out = [
    "19373 READ* 9773059 254:0 flock",
    "19358 WRITE 9773059 254:0 flock",
    "777 WRITE 9773059 0:26 other-dev",
    "888 WRITE 1234 254:0 other-inode",
    "900 READ 9773059 254:0 kuma\\x20tproxy",
    "",
  ].join("\n");
  assertEquals(parseLockHolders(out, { ino: 9773059, dev: 65024 }), [
    { pid: 19358, command: "flock" },
    { pid: 900, command: "kuma tproxy" },
  ]);
  assertEquals(parseLockHolders("garbage\n", { ino: 1, dev: 1 }), []);
});

Deno.test("waitLimits: defaults, environment, and a bad value is a usage error", () => {
  assertEquals(waitLimits({}), { lockMs: 60_000, busProbeMs: 5_000 });
  assertEquals(
    waitLimits({ KUMA_TPROXY_LOCK_TIMEOUT: "2", KUMA_TPROXY_BUS_TIMEOUT: "0.25" }),
    { lockMs: 2000, busProbeMs: 250 },
  );
  for (const bad of ["0", "-1", "1e3", "abc", "100000"]) {
    let code = 0;
    try {
      waitLimits({ KUMA_TPROXY_LOCK_TIMEOUT: bad });
    } catch (e) {
      code = (e as { exitCode: number }).exitCode;
    }
    assertEquals(code, 2, bad);
  }
});
