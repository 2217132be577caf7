/**
 * Every error message reads on after `kuma-tproxy: ` in lower case, as the
 * house style has it: this scans the message argument of each error
 * constructor in src/ (after a snake_case code, when the error takes one).
 */
import { assertEquals } from "../assert.ts";
import { readTextFileBounded } from "../../src/os/bounded_read.ts";

/** `new XError(`, a helper such as `ioError(`, or an error class's `super(`; then an optional code, then the message. */
const CONSTRUCTOR =
  /(?:\bnew\s+[A-Z]\w*Error|\b[a-z]\w*Error|\bsuper)\(\s*(?:"[a-z0-9_]+",\s*)?(?:[a-z]\w*,\s*)?(["`])((?:\\.|(?!\1).)*)\1/gs;
/** Words that keep their capital: names of things, not the start of a sentence. */
const PROPER = /^(IPv[46]|Docker|Envoy|Kuma|D-Bus|DBUS_|RFC\d|KUMA_|RUNNING|COMMAND_FAILED)/;

export function sentenceStarts(text: string): string[] {
  const code = text.split("\n").filter((l) => !/^\s*(\*|\/\/)/.test(l)).join("\n");
  return [...code.matchAll(CONSTRUCTOR)].map((m) => m[2])
    .filter((message) => /^[A-Z][a-z]/.test(message) && !PROPER.test(message));
}

Deno.test("sentenceStarts() finds a capital after the code, on any line", () => {
  const text = [
    'throw new FirewalldError("io", "Cannot read x");',
    "throw ioError(`Cannot remove ${path}`, path, e);",
    "throw new UserError(",
    '  "Uninstall failed",',
    ");",
    'throw new UserError("IPv6 is off");',
    'throw new ConfigError("invalid_value", "redirect.dns.port is bad");',
    "    super(`Cannot split ${text}`);",
  ].join("\n");
  assertEquals(sentenceStarts(text), [
    "Cannot read x",
    "Cannot remove ${path}",
    "Uninstall failed",
    "Cannot split ${text}",
  ]);
});

Deno.test("every error message in src/ starts in lower case", async () => {
  const root = new URL("../../src/", import.meta.url);
  const found: string[] = [];
  const walk = async (dir: URL) => {
    for await (const e of Deno.readDir(dir)) {
      const url = new URL(e.name + (e.isDirectory ? "/" : ""), dir);
      if (e.isDirectory) await walk(url);
      else if (e.name.endsWith(".ts")) {
        const text = await readTextFileBounded(url.pathname, { maxBytes: 1024 * 1024 });
        for (const m of sentenceStarts(text)) {
          found.push(`${url.pathname.slice(root.pathname.length)}: ${m.slice(0, 60)}`);
        }
      }
    }
  };
  await walk(root);
  assertEquals(found, []);
});
