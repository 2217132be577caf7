import { assertEquals, assertRejects, assertStringIncludes } from "../../../assert.ts";
import { readRecord, recordPath } from "../../../../src/ops/confirm/record.ts";

/** A record as install writes it, trimmed to what the check reads. */
const GOOD = {
  version: 1,
  id: "3f0c",
  startedAt: 1_700_000_000_000,
  deadline: 1_700_000_003_000,
  timeoutMs: 3000,
  backend: "iptables",
  applied: true,
  watcherPid: 4242,
  iptables: {
    states: [{
      plan: {
        exe: {
          mode: "nft",
          family: 4,
          iptables: "iptables-nft",
          save: "iptables-nft-save",
          restore: "iptables-nft-restore",
        },
        rulesText: "",
      },
      before: { tables: [] },
    }],
  },
  nft: { path: "/usr/sbin/nft", before: null },
  restore: { wait: 5, waitInterval: 0, maxRetries: 4, sleepMs: 2000 },
  persist: { targets: [{ name: "systemd", want: "ours" }], removeUnit: false },
  config: "kumaDPUser: kuma-dp\n",
};

async function withRecord(text: string, fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "ktp-record-" });
  try {
    await Deno.writeTextFile(`${dir}/pending.json`, text);
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("readRecord() reads a record install wrote", async () => {
  await withRecord(JSON.stringify(GOOD), async (dir) => {
    assertEquals(await readRecord({ confirmDir: dir }), GOOD as unknown);
  });
});

Deno.test("readRecord() refuses a damaged record with one line naming the file and the fault", async () => {
  const cases: [string, string][] = [
    ["", "not valid JSON"],
    [JSON.stringify(GOOD).slice(0, 100), "not valid JSON"],
    ["null", "not a JSON object"],
    ["[1]", "not a JSON object"],
    [JSON.stringify({ ...GOOD, version: 2 }), "version 2, not 1"],
    [JSON.stringify({ ...GOOD, deadline: "soon" }), "deadline is not a time"],
    [JSON.stringify({ ...GOOD, deadline: 1e300 }), "deadline is not a time"],
    [JSON.stringify({ ...GOOD, iptables: undefined }), "no iptables saves"],
    [JSON.stringify({ ...GOOD, iptables: { states: [{ plan: {} }] } }), "iptables save is damaged"],
    [JSON.stringify({ ...GOOD, persist: { targets: [null] } }), "what confirm stores is damaged"],
    [JSON.stringify({ ...GOOD, nft: { path: 1 } }), "the nft table is damaged"],
    [JSON.stringify({ ...GOOD, backend: "pf" }), "backend is not known"],
    [JSON.stringify({ ...GOOD, config: undefined }), "no config"],
  ];
  for (const [text, want] of cases) {
    await withRecord(text, async (dir) => {
      const e = await assertRejects(() => readRecord({ confirmDir: dir }), Error);
      const message = (e as Error).message;
      assertStringIncludes(message, `${recordPath({ confirmDir: dir })} is not a record this`);
      assertStringIncludes(message, want, text);
      assertEquals(message.split("\n").length, 1, message);
    });
  }
});
