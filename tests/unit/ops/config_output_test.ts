/**
 * `config --output FILE` writes a file that our own `--config` reads back to
 * the same settings (issue 24 item 3), with the settings of one run (dryRun,
 * the store switches) back at their defaults; it refuses a directory or a
 * symlink and writes nothing.
 */
import { Command } from "commander";
import { assert, assertEquals, assertRejects, assertStringIncludes } from "../../assert.ts";
import { addConfigOptions, collectInputs } from "../../../src/cli/config_flags.ts";
import { resolveConfig } from "../../../src/config/resolve.ts";
import type { Config } from "../../../src/config/types.ts";
import { renderOutputConfig, writeOutputConfig } from "../../../src/ops/config_output.ts";
import { UserError } from "../../../src/ops/errors.ts";
import { fakeInputs, oneFile } from "../config/fake_inputs.ts";

/** The config the flags resolve to, as `kuma-tproxy config FLAGS` would. */
async function resolvedFrom(flags: string[]): Promise<Config> {
  const cmd = new Command("config").exitOverride();
  addConfigOptions(cmd);
  cmd.parse(flags, { from: "user" });
  return (await resolveConfig(fakeInputs({ flags: collectInputs(cmd).flags }))).config;
}

const CASES: Record<string, string[]> = {
  "the defaults": [],
  "DNS, all of it": ["--redirect-all-dns-traffic", "--redirect-dns-port", "5353"],
  "DNS to the resolver, conntrack split off": [
    ...["--redirect-dns", "--skip-dns-conntrack-zone-split"],
  ],
  "exclusions": [
    ...["--kuma-dp-user", "5678", "--exclude-inbound-ports", "22,8080"],
    ...["--exclude-outbound-ports", "5432", "--exclude-outbound-ips", "10.0.0.0/8,fd00::/8"],
    ...["--exclude-inbound-ips", "192.0.2.1", "--exclude-outbound-ports-for-uids", "tcp:22:1000"],
  ],
  "vnet and ipv4 only": [
    ...["--vnet", "docker0:172.17.0.0/16", "--vnet", "br+:172.18.0.0/16"],
    ...["--ip-family-mode", "ipv4", "--redirect-inbound-port", "16006"],
  ],
  "run-specific settings": [
    ...["--dry-run", "--store-systemd", "--backend", "nftables", "--redirect-inbound=false"],
  ],
};

for (const [name, flags] of Object.entries(CASES)) {
  Deno.test(`config --output: ${name} read back with --config gives the same settings`, async () => {
    const config = await resolvedFrom(flags);
    const dir = await Deno.makeTempDir();
    try {
      const path = `${dir}/kuma-dp.yaml`;
      await writeOutputConfig(path, config);
      assertEquals((await Deno.stat(path)).mode! & 0o7777, 0o644);
      const text = await Deno.readTextFile(path);
      assertEquals(text, await renderOutputConfig(config));
      const back = (await resolveConfig(fakeInputs(oneFile(text, path)))).config;
      assertEquals(back, {
        ...config,
        dryRun: false,
        storeFirewalld: false,
        storeSystemd: false,
        allowFirewalldFlush: false,
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("config --output: the cases set what they name", async () => {
  const vnet = await resolvedFrom(CASES["vnet and ipv4 only"]);
  assertEquals(vnet.redirect.vnet.networks.length, 2);
  assertEquals(vnet.ipFamilyMode, "ipv4");
  assert((await resolvedFrom(CASES["DNS, all of it"])).redirect.dns.captureAll);
  const run = await resolvedFrom(CASES["run-specific settings"]);
  assert(run.dryRun && run.storeSystemd && run.backend === "nftables");
});

Deno.test("config --output refuses a directory or a symlink, writes nothing", async () => {
  const config = await resolvedFrom([]);
  const dir = await Deno.makeTempDir();
  try {
    await Deno.symlink(`${dir}/target`, `${dir}/link`);
    const e = await assertRejects(() => writeOutputConfig(`${dir}/link`, config), UserError);
    assertEquals(e.exitCode, 2);
    assertStringIncludes(e.message, "is a symlink");
    const d = await assertRejects(() => writeOutputConfig(dir, config), UserError);
    assertEquals(d.exitCode, 2);
    const names = [];
    for await (const entry of Deno.readDir(dir)) names.push(entry.name);
    assertEquals(names, ["link"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
