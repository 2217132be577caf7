import { assertEquals } from "../../assert.ts";
import { SystemFacts } from "../../../src/host/system_facts.ts";
import { FakeRunner, ok } from "../os/fake_runner.ts";
import { withTempDir } from "../../temp_dir.ts";

/** getent as glibc's: a key strtoul takes whole is a UID, wrapped to 32 bits. */
function getent(passwd: Record<number, string>) {
  return new FakeRunner(({ args }) => {
    const key = args[1];
    const m = /^\s*([+-]?)(\d+)$/.exec(key);
    if (!m) {
      const found = Object.entries(passwd).find(([, name]) => name === key);
      return found
        ? ok(`${key}:x:${found[0]}:${found[0]}::/:/bin/sh\n`)
        : { code: 2, stdout: "", stderr: "" };
    }
    const n = BigInt(m[2]) * (m[1] === "-" ? -1n : 1n);
    const uid = Number(((n % 2n ** 32n) + 2n ** 32n) % 2n ** 32n);
    const name = passwd[uid];
    return name ? ok(`${name}:x:${uid}:${uid}::/:/bin/sh\n`) : { code: 2, stdout: "", stderr: "" };
  });
}

Deno.test("lookupUser() takes getent's answer only for the UID or name asked for", () =>
  withTempDir("ktp-facts-", async (dir) => {
    // No local entries: every answer comes from NSS.
    await Deno.writeTextFile(`${dir}/passwd`, "");
    const facts = new SystemFacts(
      getent({ 0: "root", 1: "daemon", 5678: "kuma-dp" }),
      `${dir}/passwd`,
    );
    assertEquals(await facts.lookupUser("5678"), { name: "kuma-dp", uid: 5678 });
    assertEquals(await facts.lookupUser("05678"), { name: "kuma-dp", uid: 5678 });
    assertEquals(await facts.lookupUser("kuma-dp"), { name: "kuma-dp", uid: 5678 });
    assertEquals(await facts.lookupUser("0"), { name: "root", uid: 0 });
    for (const wraps of ["4294967296", "4294967297", "+0", " 0", "-4294967295", "+5678"]) {
      assertEquals(await facts.lookupUser(wraps), undefined, `'${wraps}'`);
    }
  }));
