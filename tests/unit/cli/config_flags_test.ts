import { Command } from "commander";
import { assert, assertEquals } from "../../assert.ts";
import { addConfigOptions, collectInputs } from "../../../src/cli/config_flags.ts";
import { CONFIG_FLAGS } from "../../../src/config/flags.ts";
import { LEAF_PATHS } from "../../../src/config/keys.ts";
import { resolveConfig } from "../../../src/config/resolve.ts";
import { fakeInputs } from "../config/fake_inputs.ts";

function parse(args: string[], command: "install" | "uninstall" = "install") {
  const program = new Command().exitOverride();
  let target: string | undefined;
  const sub = program.command(command).argument("[target]").exitOverride()
    .action((t: string | undefined) => {
      target = t;
    });
  addConfigOptions(sub);
  program.parse([command, ...args], { from: "user" });
  return { ...collectInputs(sub), target };
}

Deno.test("CONFIG_FLAGS points every flag at a real setting", () => {
  for (const spec of CONFIG_FLAGS) {
    assert(
      LEAF_PATHS.includes(spec.path) || spec.path === "iptablesExecutables",
      `${spec.flag} -> ${spec.path}`,
    );
  }
});

Deno.test("collectInputs() returns only the flags typed, in order, with raw values", () => {
  const { flags, configSources, target } = parse([
    "--redirect-dns-port",
    "5353",
    "--redirect-dns",
    "transparent-proxy",
    "--exclude-inbound-ips",
    "10.0.0.1",
    "--exclude-inbound-ips=::1",
    "--config",
    "a.yaml",
    "--config-file",
    "-",
  ]);
  // A bare boolean flag must not swallow the positional word after it (pflag semantics).
  assertEquals(target, "transparent-proxy");
  assertEquals(configSources, ["a.yaml", "-"]);
  assertEquals(flags, [
    { flag: "--redirect-dns-port", path: "redirect.dns.port", raw: "5353" },
    { flag: "--redirect-dns", path: "redirect.dns.enabled", raw: true },
    {
      flag: "--exclude-inbound-ips",
      path: "redirect.inbound.excludePortsForIPs",
      raw: ["10.0.0.1", "::1"],
    },
  ]);
});

Deno.test("addConfigOptions() takes --flag=false for booleans like pflag", async () => {
  const { flags } = parse(["--redirect-inbound=false", "--redirect-outbound=0"]);
  const { config } = await resolveConfig(fakeInputs({ flags }));
  assertEquals([config.redirect.inbound.enabled, config.redirect.outbound.enabled], [false, false]);
});

Deno.test("collectInputs() lets the last of --kuma-dp-user and --kuma-dp-uid win", async () => {
  const { flags } = parse(["--kuma-dp-user", "kuma", "--kuma-dp-uid", "1234"]);
  const { config, origins } = await resolveConfig(fakeInputs({ flags }));
  assertEquals(config.kumaDPUser, "1234");
  assertEquals(origins["kumaDPUser"], "flag:--kuma-dp-uid");
});

Deno.test("addConfigOptions() gives uninstall the same flags as install", () => {
  // Issue 4: uninstall accepts every config source and flag install does.
  const program = new Command().exitOverride();
  const uninstall = program.command("uninstall").exitOverride();
  const install = program.command("install").exitOverride();
  addConfigOptions(uninstall);
  addConfigOptions(install);
  const names = (c: Command) => c.options.map((o) => o.long).sort();
  assertEquals(names(uninstall), names(install));
  assert(names(uninstall).includes("--store-firewalld"));
});

Deno.test("collectInputs() notes kumactl's no-op flags, with or without a value", () => {
  const none = parse(["--verbose"]);
  assertEquals(none.notes, []);
  const { notes, flags } = parse([
    "--experimental-transparent-proxy-engine=true",
    "--redirect-dns-upstream-target-chain",
    "DOCKER_OUTPUT",
  ]);
  assertEquals(flags, []);
  assertEquals(notes.length, 2);
  assert(
    notes[0].startsWith(
      "--experimental-transparent-proxy-engine is accepted for compatibility and has no effect",
    ),
  );
  assert(
    notes[1].startsWith(
      "--redirect-dns-upstream-target-chain is accepted for compatibility and has no effect",
    ),
  );
});
