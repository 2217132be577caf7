/** The storeSystemd setting comes from every source, like every other key. */
import { Command } from "commander";
import { assertEquals } from "../../assert.ts";
import { addConfigOptions, collectInputs } from "../../../src/cli/config_flags.ts";
import { resolveConfig } from "../../../src/config/resolve.ts";
import { fakeInputs } from "./fake_inputs.ts";

Deno.test("resolveConfig() reads storeSystemd from YAML, env and --store-systemd", async () => {
  const fromFile = await resolveConfig(fakeInputs({
    configSources: ["/tp.yaml"],
    files: { "/tp.yaml": "storeSystemd: true\n" },
  }));
  assertEquals([fromFile.config.storeSystemd, fromFile.origins.storeSystemd], [
    true,
    "file:/tp.yaml:1:15",
  ]);
  const fromEnv = await resolveConfig(fakeInputs({
    env: { KUMA_TRANSPARENT_PROXY_STORE_SYSTEMD: "true" },
  }));
  assertEquals([fromEnv.config.storeSystemd, fromEnv.origins.storeSystemd], [
    true,
    "env:KUMA_TRANSPARENT_PROXY_STORE_SYSTEMD",
  ]);
  const cmd = new Command("install").exitOverride();
  addConfigOptions(cmd);
  cmd.parse(["--store-systemd"], { from: "user" });
  const fromFlag = await resolveConfig(fakeInputs({ flags: collectInputs(cmd).flags }));
  assertEquals([fromFlag.config.storeSystemd, fromFlag.origins.storeSystemd], [
    true,
    "flag:--store-systemd",
  ]);
  assertEquals((await resolveConfig(fakeInputs())).config.storeSystemd, false);
});
