import { assertEquals } from "../../assert.ts";
import { cli } from "../../../src/cli/cli.ts";
import type { CliIo } from "../../../src/cli/io.ts";

/** Runs the CLI with only the streams: enough for errors that commander finds. */
async function run(argv: string[]) {
  let out = "";
  let err = "";
  const io = {
    out: (t: string) => void (out += t),
    err: (t: string) => void (err += t),
    env: {},
  } as unknown as CliIo;
  return { code: await cli(argv, io), out, err };
}

Deno.test("cli() puts commander's errors in the one kuma-tproxy: format, exit 2", async () => {
  const cases: [string[], string][] = [
    [
      ["install", "--dry-runn"],
      "kuma-tproxy: unknown option '--dry-runn' (did you mean --dry-run?); run with --help for usage",
    ],
    [
      ["install", "--cni-mode"],
      "kuma-tproxy: unknown option '--cni-mode'; run with --help for usage",
    ],
    [
      ["status", "--redirect-dns-port"],
      "kuma-tproxy: option '--redirect-dns-port <port>' argument missing; run with --help for usage",
    ],
    [
      ["instal"],
      "kuma-tproxy: unknown command 'instal' (did you mean install?); run with --help for usage",
    ],
    [
      ["completion"],
      "kuma-tproxy: missing required argument 'shell'; run with --help for usage",
    ],
    [
      ["install", "a", "b"],
      "kuma-tproxy: too many arguments for 'install'. Expected 1 argument but got 2; " +
      "run with --help for usage",
    ],
  ];
  for (const [argv, line] of cases) {
    assertEquals(await run(argv), { code: 2, out: "", err: `${line}\n` }, argv.join(" "));
  }
});

Deno.test("cli() without a command prints the help and says what is missing", async () => {
  const r = await run([]);
  assertEquals(r.code, 2);
  const lines = r.err.trimEnd().split("\n");
  assertEquals(lines[0], "Usage: kuma-tproxy [options] [command]");
  assertEquals(lines.at(-1), "kuma-tproxy: no command given (expected one of the commands above)");
});
