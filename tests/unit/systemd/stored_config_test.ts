import { assert, assertEquals, assertStringIncludes } from "../../assert.ts";
import { defaultConfig } from "../../../src/config/defaults.ts";
import { resolveConfig } from "../../../src/config/resolve.ts";
import type { Config } from "../../../src/config/types.ts";
import {
  isOurConfig,
  renderStoredConfig,
  RUN_SPECIFIC_KEYS,
  storedConfigDefect,
} from "../../../src/systemd/stored_config.ts";
import { CASES, configForCase } from "../../cases.ts";
import { assertGolden } from "../../golden.ts";

const PATH = "/etc/kuma-tproxy/boot.yaml";

/** What `install --config <file>` resolves the stored text to, with no env and no flags. */
async function readBack(text: string): Promise<Config> {
  const { config } = await resolveConfig({
    configSources: [PATH],
    env: {},
    flags: [],
    readFile: (p) =>
      p === PATH ? Promise.resolve(text) : Promise.reject(new Deno.errors.NotFound(p)),
    readStdin: () => Promise.reject(new Error("no stdin")),
  });
  return config;
}

for (const c of CASES) {
  Deno.test(`renderStoredConfig() reads back through install --config to the same config (case ${c.name})`, async () => {
    const config = await configForCase(c.name);
    // The run-specific keys as a user may set them: they must not survive.
    const asRun = { ...config, dryRun: true, storeFirewalld: true, storeSystemd: true };
    const back = await readBack(await renderStoredConfig(asRun));
    assertEquals(back, { ...config, dryRun: false, storeFirewalld: false, storeSystemd: false });
    // The same config always gives the same bytes: status compares them.
    assertEquals(await renderStoredConfig(back), await renderStoredConfig(asRun));
  });
}

Deno.test("renderStoredConfig() leaves out the run-specific keys and marks the file as ours", async () => {
  const text = await renderStoredConfig({ ...defaultConfig(), dryRun: true, storeSystemd: true });
  for (const key of RUN_SPECIFIC_KEYS) {
    assert(!new RegExp(`^${key}:`, "m").test(text), `${key} in\n${text}`);
  }
  assert(isOurConfig(text));
  assert(!isOurConfig("kumaDPUser: kuma-dp\n"));
  assertStringIncludes(text, "\nredirect:\n");
});

Deno.test("renderStoredConfig() matches the golden file for case with-multiple-flags", async () => {
  assertGolden(
    "systemd/boot.with-multiple-flags.yaml",
    await renderStoredConfig(await configForCase("with-multiple-flags")),
  );
});

Deno.test("storedConfigDefect() accepts the whole file and refuses every cut at a line boundary", async () => {
  const text = await renderStoredConfig(await configForCase("with-multiple-flags"));
  assertEquals(await storedConfigDefect(text), undefined);
  const lines = text.split("\n");
  assert(lines.length > 20, text);
  for (let n = 0; n < lines.length - 1; n++) {
    // The first n lines, with and without the newline that ends the last of them.
    for (const cut of [lines.slice(0, n).join("\n"), lines.slice(0, n).join("\n") + "\n"]) {
      if (cut === text) continue;
      assert(
        await storedConfigDefect(cut) !== undefined,
        `accepted a cut after ${n} lines:\n${cut}`,
      );
    }
  }
  assertEquals(await storedConfigDefect(""), "is empty");
});

Deno.test("storedConfigDefect() refuses a changed byte and an appended line", async () => {
  const text = await renderStoredConfig({ ...defaultConfig(), backend: "nftables" });
  assertStringIncludes(
    (await storedConfigDefect(text.replace("backend: nftables", "backend: iptables")))!,
    "does not match its sha256 line",
  );
  assertStringIncludes(
    (await storedConfigDefect(`${text}verbose: true\n`))!,
    "does not end with its sha256 line",
  );
  assertStringIncludes(
    (await storedConfigDefect("kumaDPUser: kuma-dp\n"))!,
    "does not start with the line kuma-tproxy writes",
  );
});
