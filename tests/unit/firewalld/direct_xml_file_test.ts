import { assert, assertEquals, assertRejects } from "../../assert.ts";
import { withTempDir } from "../../temp_dir.ts";
import {
  assertReplaceable,
  OLD_BACKUP_SUFFIX,
  parentExists,
  readDirectXmlFile,
  removeDirectXmlFile,
  writeFileAtomic,
} from "../../../src/firewalld/direct_xml_file.ts";
import { FirewalldError } from "../../../src/firewalld/errors.ts";

async function names(dir: string): Promise<string[]> {
  const out = [];
  for await (const e of Deno.readDir(dir)) out.push(e.name);
  return out.sort();
}

const withTemp = (fn: (dir: string) => Promise<void>) => withTempDir("ktp-fw-file-", fn);

Deno.test("writeFileAtomic() keeps mode and owner and removes an earlier version's backup", () =>
  withTemp(async (dir) => {
    const path = `${dir}/direct.xml`;
    await Deno.writeTextFile(path, "old");
    await Deno.writeTextFile(path + OLD_BACKUP_SUFFIX, "our rules, left by an earlier version");
    await Deno.chmod(path, 0o600);
    await Deno.chown(path, 4321, 4322);
    await writeFileAtomic(path, "new");
    const info = await Deno.stat(path);
    assertEquals(await Deno.readTextFile(path), "new");
    assertEquals(info.mode! & 0o7777, 0o600);
    assertEquals([info.uid, info.gid], [4321, 4322]);
    // Nothing else: no backup (the rename is atomic), no leftover temporary file.
    assertEquals(await names(dir), ["direct.xml"]);
  }));

Deno.test("writeFileAtomic() creates a missing file with mode 0644 whatever the umask", () =>
  withTemp(async (dir) => {
    const old = Deno.umask(0o077);
    try {
      await writeFileAtomic(`${dir}/direct.xml`, "x");
    } finally {
      Deno.umask(old);
    }
    assertEquals((await Deno.stat(`${dir}/direct.xml`)).mode! & 0o7777, 0o644);
    assertEquals(await names(dir), ["direct.xml"]);
  }));

Deno.test("writeFileAtomic(), removeDirectXmlFile() and assertReplaceable() refuse a symlink, naming its target", () =>
  withTemp(async (dir) => {
    await Deno.writeTextFile(`${dir}/real.xml`, "old");
    await Deno.symlink(`${dir}/real.xml`, `${dir}/direct.xml`);
    for (
      const run of [
        () => writeFileAtomic(`${dir}/direct.xml`, "new"),
        () => removeDirectXmlFile(`${dir}/direct.xml`),
        () => assertReplaceable(`${dir}/direct.xml`),
      ]
    ) {
      const e = await assertRejects(run, FirewalldError);
      assertEquals(e.code, "symlink");
      assert(
        e.message.startsWith(
          `${dir}/direct.xml is a symbolic link to ${dir}/real.xml; kuma-tproxy neither writes`,
        ),
        e.message,
      );
    }
    assert((await Deno.lstat(`${dir}/direct.xml`)).isSymlink);
    assertEquals(await Deno.readTextFile(`${dir}/real.xml`), "old");
    assertEquals(await names(dir), ["direct.xml", "real.xml"]);
  }));

Deno.test("assertReplaceable() refuses what writeFileAtomic() could not replace, changing nothing", () =>
  withTemp(async (dir) => {
    const path = `${dir}/direct.xml`;
    await assertReplaceable(path); // missing file, writable directory
    await Deno.writeTextFile(path, "old");
    await assertReplaceable(path);
    await Deno.mkdir(`${dir}/sub.xml`);
    assertEquals(
      (await assertRejects(() => assertReplaceable(`${dir}/sub.xml`), FirewalldError)).code,
      "io",
    );
    // An immutable file (chattr +i: ext4 and, since Linux 6.0, tmpfs support it).
    const chattr = (flag: string) =>
      new Deno.Command("chattr", { args: [flag, path], stderr: "null" }).output();
    if (!(await chattr("+i")).success) return;
    try {
      const e = await assertRejects(() => assertReplaceable(path), FirewalldError);
      assertEquals(e.code, "io");
      assert(e.message.startsWith(`cannot write ${path} (checked before changing anything)`));
    } finally {
      await chattr("-i");
    }
    assertEquals(await Deno.readTextFile(path), "old");
    assertEquals(await names(dir), ["direct.xml", "sub.xml"]);
  }));

Deno.test("removeDirectXmlFile() removes the file and an earlier version's backup", () =>
  withTemp(async (dir) => {
    await Deno.writeTextFile(`${dir}/direct.xml`, "<direct/>");
    await Deno.writeTextFile(`${dir}/direct.xml${OLD_BACKUP_SUFFIX}`, "old");
    await removeDirectXmlFile(`${dir}/direct.xml`);
    await removeDirectXmlFile(`${dir}/direct.xml`); // already gone: fine
    assertEquals(await names(dir), []);
  }));

Deno.test("readDirectXmlFile() and parentExists() tell a missing file from a missing directory", () =>
  withTemp(async (dir) => {
    assertEquals(await readDirectXmlFile(`${dir}/direct.xml`), null);
    assertEquals(await parentExists(`${dir}/direct.xml`), true);
    assertEquals(await parentExists(`${dir}/nope/direct.xml`), false);
  }));
