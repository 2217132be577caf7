/**
 * `--json` through the real CLI in a namespace with a private boot host
 * (../world/boot_host.ts): install, status and uninstall print one object
 * each, valid against docs/report.schema.json, saying per backend and per
 * persistence target what changed, on both backends.
 *
 * Needs root, `ip netns` and unshare (run with --allow-all).
 */
import { assertEquals, assertStringIncludes } from "../assert.ts";
import { validate } from "../json_schema.ts";
import { withBootHost } from "../world/boot_host.ts";
import { KUMA_DP_UID } from "../world/world.ts";

const SCHEMA = JSON.parse(
  await Deno.readTextFile(new URL("../../docs/report.schema.json", import.meta.url)),
);

function parsed(r: { code: number; stdout: string; stderr: string }, what: string) {
  const json = JSON.parse(r.stdout);
  assertEquals(validate(SCHEMA, json), [], `${what}: ${r.stdout}\n${r.stderr}`);
  assertEquals(json.exitCode, r.code, `${what}: ${r.stderr}`);
  return json;
}

type Change = { family?: number; backend: string; action: string };
const actions = (json: { changes: Change[] }) =>
  json.changes.map((c) => `${c.family ?? "inet"} ${c.backend} ${c.action}`);

for (const backend of ["iptables", "nftables"]) {
  Deno.test(`install, status, uninstall --json --backend ${backend} --store-systemd report what changed`, async () => {
    await withBootHost(async (h) => {
      const flags = [
        "--backend",
        backend,
        "--kuma-dp-user",
        String(KUMA_DP_UID),
        "--ip-family-mode",
        "ipv4",
        "--store-systemd",
      ];
      const install = parsed(await h.cli(["install", "--json", ...flags]), "install");
      assertEquals([install.exitCode, install.changed, install.dryRun], [0, true, false]);
      assertEquals(
        actions(install),
        [`4 ${backend === "nftables" ? "nftables" : "iptables-nft"} installed`],
      );
      assertEquals(install.persistence.map((p: { target: string }) => p.target), ["systemd"]);
      assertStringIncludes(install.persistence[0].lines.join("\n"), "systemd: wrote ");

      const status = parsed(await h.cli(["status", "--json", ...flags]), "status");
      assertEquals([status.exitCode, status.state], [0, "installed"]);
      assertEquals(status.targets, [{ target: "systemd", stored: true, matches: true }]);

      const uninstall = parsed(await h.cli(["uninstall", "--json"]), "uninstall");
      assertEquals([uninstall.exitCode, uninstall.changed], [0, true]);
      assertEquals(
        actions(uninstall),
        [backend === "nftables" ? "inet nftables removed" : "4 iptables-nft removed"],
      );
      assertEquals(uninstall.persistence.map((p: { target: string }) => p.target), ["systemd"]);

      const again = parsed(await h.cli(["uninstall", "--json"]), "uninstall again");
      assertEquals([again.exitCode, again.changed, again.changes], [0, false, []]);
    });
  });
}
