/**
 * Imports in src/ only go down. The order is written here once; a layer may
 * import from any layer below it, never from its own rank's siblings or
 * from above. tests/ are free to import anything.
 */
import { assertEquals } from "../assert.ts";
import { readTextFileBounded } from "../../src/os/bounded_read.ts";
import { importsOf, sourceFiles } from "./_imports.ts";

/** Lowest first. Layers of one rank are siblings and may not import each other. */
export const LAYERS: readonly (readonly string[])[] = [
  ["os", "net"],
  ["config"],
  ["rules"],
  ["host", "iptables", "nftables", "firewalld", "systemd"],
  ["verify"],
  ["ops"],
  ["cli"],
  ["main.ts"],
];

const SHARED = new Set(["version.ts"]);

function rank(layer: string): number {
  return LAYERS.findIndex((r) => r.includes(layer));
}

Deno.test("every src/ folder and top-level file has a place in LAYERS", async () => {
  const names: string[] = [];
  for await (const e of Deno.readDir(new URL("../../src/", import.meta.url))) {
    if (e.name.endsWith(".md") || SHARED.has(e.name)) continue;
    names.push(e.name);
  }
  assertEquals(names.filter((n) => rank(n) < 0), []);
});

Deno.test("imports in src/ only go down the layers", async () => {
  const root = new URL("../../src/", import.meta.url);
  const layerOf = (url: URL) => url.pathname.slice(root.pathname.length).split("/")[0];
  const upward: string[] = [];
  for (const file of await sourceFiles(root)) {
    const from = layerOf(file);
    const text = await readTextFileBounded(file.pathname, { maxBytes: 1024 * 1024 });
    for (const spec of importsOf(text)) {
      if (!spec.startsWith(".")) continue; // npm packages
      const target = new URL(spec, file);
      if (!target.pathname.startsWith(root.pathname)) continue; // deno.json
      const to = layerOf(target);
      if (to === from || SHARED.has(to)) continue;
      if (rank(to) >= rank(from)) {
        upward.push(`${file.pathname.slice(root.pathname.length)} -> ${spec}`);
      }
    }
  }
  assertEquals(upward, []);
});

Deno.test("importsOf() sees static, re-exported and dynamic imports, not doc examples", () => {
  const text = [
    'import { a } from "../cli/a.ts";',
    "import type {",
    "  B,",
    '} from "../rules/b.ts";',
    'export * from "./c.ts";',
    'const d = await import("../firewalld/d.ts");',
    ' * import { e } from "../cli/e.ts";',
  ].join("\n");
  assertEquals(importsOf(text), ["../cli/a.ts", "../rules/b.ts", "./c.ts", "../firewalld/d.ts"]);
});

/** What running a command or writing a file looks like in source: the Runner, Deno's exec and file writes. */
const EFFECT =
  /\.runner\b|\brunner\.run\b|Deno\.(Command|run|write\w*|open\w*|create\w*|remove\w*|rename\w*|mkdir\w*|chmod\w*|chown\w*|truncate\w*|symlink\w*|link\w*|makeTemp\w*)\b|connectFirewalld\(|withRunLock\(/;

Deno.test("no file in src/cli/ runs a command or writes a file: src/ops does", async () => {
  const cli = new URL("../../src/cli/", import.meta.url);
  const effects: string[] = [];
  for (const file of await sourceFiles(cli)) {
    const text = await readTextFileBounded(file.pathname, { maxBytes: 1024 * 1024 });
    text.split("\n").forEach((line, i) => {
      if (/^\s*(\*|\/\/)/.test(line)) return; // comments and doc examples
      if (EFFECT.test(line)) effects.push(`${file.pathname.slice(cli.pathname.length)}:${i + 1}`);
    });
  }
  assertEquals(effects, []);
  // The check sees what it looks for: the orchestration layer has both.
  const install = await readTextFileBounded(
    new URL("../../src/ops/install.ts", import.meta.url).pathname,
    { maxBytes: 1024 * 1024 },
  );
  assertEquals(EFFECT.test(install), true);
});
