import { assert, assertEquals } from "../../assert.ts";
import {
  BACKUP_SUFFIX,
  parentExists,
  readDirectXmlFile,
  writeFileAtomic,
} from "../../../src/firewalld/direct_xml_file.ts";

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "ktp-fw-file-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("writeFileAtomic() keeps mode and owner and leaves a backup of the old file", () =>
  withTempDir(async (dir) => {
    const path = `${dir}/direct.xml`;
    await Deno.writeTextFile(path, "old");
    await Deno.chmod(path, 0o600);
    await Deno.chown(path, 4321, 4322);
    await writeFileAtomic(path, "new");
    const info = await Deno.stat(path);
    assertEquals(await Deno.readTextFile(path), "new");
    assertEquals(info.mode! & 0o7777, 0o600);
    assertEquals([info.uid, info.gid], [4321, 4322]);
    assertEquals(await Deno.readTextFile(path + BACKUP_SUFFIX), "old");
    assertEquals((await Deno.stat(path + BACKUP_SUFFIX)).mode! & 0o7777, 0o600);
    // Nothing else (no leftover temporary file).
    const names = [];
    for await (const e of Deno.readDir(dir)) names.push(e.name);
    assertEquals(names.sort(), ["direct.xml", "direct.xml" + BACKUP_SUFFIX]);
  }));

Deno.test("writeFileAtomic() creates a missing file with mode 0644 whatever the umask", () =>
  withTempDir(async (dir) => {
    const old = Deno.umask(0o077);
    try {
      await writeFileAtomic(`${dir}/direct.xml`, "x");
    } finally {
      Deno.umask(old);
    }
    assertEquals((await Deno.stat(`${dir}/direct.xml`)).mode! & 0o7777, 0o644);
    assertEquals(await readDirectXmlFile(`${dir}/direct.xml${BACKUP_SUFFIX}`), null);
  }));

Deno.test("writeFileAtomic() replaces a symlink's target and keeps the link", () =>
  withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/real.xml`, "old");
    await Deno.symlink(`${dir}/real.xml`, `${dir}/direct.xml`);
    await writeFileAtomic(`${dir}/direct.xml`, "new");
    assert((await Deno.lstat(`${dir}/direct.xml`)).isSymlink);
    assertEquals(await Deno.readTextFile(`${dir}/real.xml`), "new");
  }));

Deno.test("readDirectXmlFile() and parentExists() tell a missing file from a missing directory", () =>
  withTempDir(async (dir) => {
    assertEquals(await readDirectXmlFile(`${dir}/direct.xml`), null);
    assertEquals(await parentExists(`${dir}/direct.xml`), true);
    assertEquals(await parentExists(`${dir}/nope/direct.xml`), false);
  }));
