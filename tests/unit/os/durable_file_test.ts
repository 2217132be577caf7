import { assert, assertEquals } from "../../assert.ts";
import { isTempOf, removeStaleTemps, replaceFile, tempPath } from "../../../src/os/durable_file.ts";

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
