/**
 * `install --backend nftables --store-systemd`: the boot unit (../world/
 * boot_host.ts, a private mount ns over /etc/systemd and /etc/kuma-tproxy)
 * brings our nft table back after a simulated reboot, judged by real traffic;
 * uninstall removes the unit and the table.
 *
 * Needs root, `ip netns` and unshare (run with --allow-all).
 */
import { assert, assertEquals, assertStringIncludes } from "../assert.ts";
import { SYSTEMD_PATH, withBootHost } from "../world/boot_host.ts";
import { KUMA_DP_UID } from "../world/world.ts";
import {
  DEFAULT_TCP_REDIRECTS,
  expected,
  prepare,
  probeAll,
  type ProbeName,
  ruleset,
} from "./traffic_probes.ts";

const UNIT = "/etc/systemd/system/kuma-tproxy.service";
const INSTALL = [
  "install",
  "--backend",
  "nftables",
  "--kuma-dp-user",
  String(KUMA_DP_UID),
  "--redirect-dns",
  "--store-systemd",
];
const REDIRECTS: ProbeName[] = [...DEFAULT_TCP_REDIRECTS, "DNS from the app"];
const OUR_TABLE = "table inet kuma_mesh_transparent_proxy {";

function assertOk(r: { code: number; stdout: string; stderr: string }, what: string) {
  assertEquals(r.code, 0, `${what} exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
}

Deno.test("install --backend nftables --store-systemd: the unit brings the nft table back after a reboot", async () => {
  await withBootHost(async (h) => {
    const w = h.world;
    await prepare(w, "nftables");
    const first = await h.cli(INSTALL);
    assertOk(first, "install");
    assertEquals(await probeAll(w), expected(w, REDIRECTS), "after install");
    const installed = await ruleset(w.host);
    assertStringIncludes(installed, OUR_TABLE);
    const unit = await Deno.readTextFile(h.path(UNIT));
    const exec = unit.split("\n").find((l) => l.startsWith("ExecStart="))!.slice(10).split(" ");

    // A reboot: nothing of ours in the kernel until the unit runs.
    const flushed = await h.run(["sh", "-ec", "nft flush ruleset"], {
      env: { PATH: SYSTEMD_PATH },
    });
    assertOk(flushed, "the simulated reboot");
    assert(!(await ruleset(w.host)).includes(OUR_TABLE));
    const boot = await h.run(exec, { env: { PATH: SYSTEMD_PATH }, cwd: "/" });
    assertOk(boot, "the unit's ExecStart");
    assertEquals(await probeAll(w), expected(w, REDIRECTS), "after the unit ran");
    const ours = (text: string) => text.split(/\n(?=table )/).find((t) => t.startsWith(OUR_TABLE));
    assertEquals(ours(await ruleset(w.host)), ours(installed), "the boot run restored the table");

    const removed = await h.cli(["uninstall"]);
    assertOk(removed, "uninstall");
    assert(!(await ruleset(w.host)).includes(OUR_TABLE));
    await Deno.lstat(h.path(UNIT)).then(
      () => assert(false, "the unit is still there"),
      (e) => assert(e instanceof Deno.errors.NotFound),
    );
    assertEquals(await probeAll(w), expected(w, []), "after uninstall");
  });
});
