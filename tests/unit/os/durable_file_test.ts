import { assert, assertEquals } from "../../assert.ts";
import {
  isTempOf,
  removeStaleTemps,
  replaceFile,
  StagedCommit,
  tempPath,
  writeSyncedFile,
} from "../../../src/os/durable_file.ts";

Deno.test("tempPath names a hidden file beside the path that isTempOf recognises, and only it", () => {
  const tmp = tempPath("/etc/firewalld/direct.xml");
  assert(tmp.startsWith("/etc/firewalld/.direct.xml.kuma-tproxy-"), tmp);
  const name = tmp.slice(tmp.lastIndexOf("/") + 1);
  assert(isTempOf("/etc/firewalld/direct.xml", name));
  for (
    const other of [
      ".direct.xml.kuma-tproxy-0badc0dX.tmp",
      ".directXxml.kuma-tproxy-0badc0de.tmp",
      ".direct.xml.kuma-tproxy-0badc0de.tmp.x",
      "direct.xml.kuma-tproxy-0badc0de.tmp",
      ".zones.xml.kuma-tproxy-0badc0de.tmp",
    ]
  ) assertEquals(isTempOf("/etc/firewalld/direct.xml", other), false, other);
});

Deno.test("replaceFile replaces with the mode asked for; removeStaleTemps takes only ours", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/f.xml`;
    await Deno.writeTextFile(path, "old");
    await Deno.writeTextFile(`${dir}/.f.xml.kuma-tproxy-12345678.tmp`, "stale");
    await Deno.writeTextFile(`${dir}/.g.xml.kuma-tproxy-12345678.tmp`, "not f's");
    await replaceFile(path, "new", { mode: 0o640 });
    assertEquals(await Deno.readTextFile(path), "new");
    assertEquals((await Deno.stat(path)).mode! & 0o777, 0o640);
    assertEquals(await removeStaleTemps(path), [".f.xml.kuma-tproxy-12345678.tmp"]);
    const names = [];
    for await (const e of Deno.readDir(dir)) names.push(e.name);
    assertEquals(names.sort(), [".g.xml.kuma-tproxy-12345678.tmp", "f.xml"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

async function names(dir: string): Promise<string[]> {
  const out = [];
  for await (const e of Deno.readDir(dir)) out.push(e.name);
  return out.sort();
}

Deno.test("StagedCommit puts the previous files back on rollback, last change first", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ktp-staged-" });
  try {
    await Deno.writeTextFile(`${dir}/a`, "old a");
    await Deno.chmod(`${dir}/a`, 0o600);
    for (const n of ["a", "b"]) {
      await writeSyncedFile(`${dir}/${n}.new`, `new ${n}`, { mode: 0o644 });
    }
    const tx = new StagedCommit();
    await tx.replace(`${dir}/a`, `${dir}/a.new`, `${dir}/a.old`);
    await tx.replace(`${dir}/b`, `${dir}/b.new`, `${dir}/b.old`);
    const order: string[] = [];
    tx.onRollback(() => Promise.resolve(void order.push("beside")));
    assertEquals(await Deno.readTextFile(`${dir}/a`), "new a");
    assertEquals(await tx.rollback(), []);
    assertEquals(order, ["beside"]);
    assertEquals(await names(dir), ["a"]);
    assertEquals(await Deno.readTextFile(`${dir}/a`), "old a");
    assertEquals((await Deno.stat(`${dir}/a`)).mode! & 0o777, 0o600);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("StagedCommit.finish() keeps the new files and drops the backups", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ktp-staged-" });
  try {
    await Deno.writeTextFile(`${dir}/a`, "old a");
    await writeSyncedFile(`${dir}/a.new`, "new a", { mode: 0o644 });
    const tx = new StagedCommit();
    await tx.replace(`${dir}/a`, `${dir}/a.new`, `${dir}/a.old`);
    assertEquals(await names(dir), ["a", "a.old"]);
    await tx.finish();
    assertEquals(await names(dir), ["a"]);
    assertEquals(await Deno.readTextFile(`${dir}/a`), "new a");
    assertEquals(await tx.rollback(), [], "nothing left to undo after finish");
    assertEquals(await Deno.readTextFile(`${dir}/a`), "new a");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
