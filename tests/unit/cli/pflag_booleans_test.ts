import { Command } from "commander";
import { assertEquals } from "../../assert.ts";
import { rewritePflagArgs, usePflagBooleans } from "../../../src/cli/pflag_booleans.ts";

const KINDS: Record<string, "boolean" | "bare" | "value"> = {
  "--redirect-dns": "boolean",
  "--experimental-transparent-proxy-engine": "bare",
  "--redirect-dns-port": "value",
};
const kindOf = (flag: string) => KINDS[flag];

Deno.test("rewritePflagArgs() makes boolean and bare flags bare and keeps their values aside", () => {
  const r = rewritePflagArgs(
    [
      "--redirect-dns=false",
      "--experimental-transparent-proxy-engine=true",
      "--redirect-dns-port=53",
      "--unknown=1",
      "--",
      "--redirect-dns=true",
    ],
    kindOf,
  );
  assertEquals(r.args, [
    "--redirect-dns",
    "--experimental-transparent-proxy-engine",
    "--redirect-dns-port=53",
    "--unknown=1",
    "--",
    "--redirect-dns=true",
  ]);
  assertEquals(r.order, ["--redirect-dns", "--redirect-dns-port"]);
  assertEquals([...r.bools], [["--redirect-dns", "false"]]);
});

// The pin on commander: the override only works while commander routes every
// parse of a subcommand through its public parseOptions(). If an upgrade
// stops doing so, `=false` reaches commander and these fail.
function program(seen: { raw?: string | true; target?: string }) {
  const root = new Command("kuma-tproxy").exitOverride()
    .configureOutput({ writeOut: () => {}, writeErr: () => {}, outputError: () => {} });
  const install = root.command("install").argument("[target]").exitOverride()
    .option("--redirect-dns")
    .option("--redirect-dns-port <port>")
    .action((target: string | undefined) => {
      seen.target = target;
    });
  usePflagBooleans(install, kindOf, (p) => {
    seen.raw = p.bools.get("--redirect-dns");
  });
  return { root, install };
}

Deno.test("usePflagBooleans() takes --flag=false through the real commander, from a parent program", async () => {
  const seen: { raw?: string | true; target?: string } = {};
  const { root, install } = program(seen);
  await root.parseAsync(["install", "--redirect-dns=false", "transparent-proxy"], { from: "user" });
  assertEquals(seen, { raw: "false", target: "transparent-proxy" });
  assertEquals(install.getOptionValueSource("redirectDns"), "cli");
});

Deno.test("usePflagBooleans() never takes the next word as a boolean's value", async () => {
  const seen: { raw?: string | true; target?: string } = {};
  const { root, install } = program(seen);
  await root.parseAsync([
    "install",
    "--redirect-dns",
    "transparent-proxy",
    "--redirect-dns-port=53",
  ], {
    from: "user",
  });
  assertEquals(seen, { raw: true, target: "transparent-proxy" });
  assertEquals(install.getOptionValue("redirectDnsPort"), "53");
});

Deno.test("commander without the override refuses --flag=false (what the override is for)", async () => {
  const cmd = new Command("install").exitOverride().option("--redirect-dns")
    .configureOutput({ writeOut: () => {}, writeErr: () => {}, outputError: () => {} });
  let code = "";
  try {
    await cmd.parseAsync(["--redirect-dns=false"], { from: "user" });
  } catch (e) {
    code = (e as { code?: string }).code ?? "";
  }
  assertEquals(code, "commander.unknownOption");
});
