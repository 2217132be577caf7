/**
 * Pins decision D1 (docs/decisions.md#d1): dbus-next's optional native
 * dependency usocket is overridden, so its node-gyp/request/tar chain stays
 * out of deno.lock, the npm cache setup.sh fills and the compiled binary.
 */
import { assert, assertEquals } from "../../assert.ts";

const root = new URL("../../../", import.meta.url);

Deno.test("package.json overrides usocket with a package already in the tree", async () => {
  const pkg = JSON.parse(await Deno.readTextFile(new URL("package.json", root)));
  const deno = JSON.parse(await Deno.readTextFile(new URL("deno.json", root)));
  assertEquals(pkg.overrides, { usocket: `npm:sax@${deno.imports.sax.split("@").pop()}` });
  // Without it, deno install creates node_modules beside a package.json.
  assertEquals(deno.nodeModulesDir, "none");
});

Deno.test("deno.lock holds no package of usocket's native build chain", async () => {
  const lock = JSON.parse(await Deno.readTextFile(new URL("deno.lock", root)));
  const names = Object.keys(lock.npm).map((p) => p.slice(0, p.lastIndexOf("@")));
  for (const dead of ["usocket", "node-gyp", "nan", "request", "tar", "bindings"]) {
    assert(!names.includes(dead), `${dead} is back in deno.lock: ${names.join(", ")}`);
  }
  assert(names.includes("dbus-next"), names.join(", "));
});
