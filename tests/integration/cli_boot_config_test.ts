/**
 * The boot run applies the stored config only when it is whole and only root
 * can have written it (issue 22, item 2). Each cut of a real stored
 * boot.yaml at a line boundary, the empty file, mode 0666, another owner and
 * a symlink: the unit's ExecStart exits 2 naming the file, with nothing
 * applied after a simulated reboot; status says the boot run refuses it.
 *
 * Needs root, `ip netns`, unshare/nsenter and overlayfs (run with --allow-all).
 */
import { assert, assertEquals, assertStringIncludes } from "../assert.ts";
import { type BootHost, SYSTEMD_PATH, withBootHost } from "../world/boot_host.ts";
import { KUMA_DP_UID } from "../world/world.ts";

const UNIT = "/etc/systemd/system/kuma-tproxy.service";
const CONFIG = "/etc/kuma-tproxy/boot.yaml";
const FLAGS = [
  ...["--backend", "nftables", "--kuma-dp-user", String(KUMA_DP_UID)],
  ...["--exclude-inbound-ports", "22"],
];

/** The kernel as a reboot leaves it: no nft table (iptables-nft's included), no ::6. */
async function reboot(h: BootHost): Promise<void> {
  const r = await h.run(["sh", "-ec", "nft flush ruleset; ip -6 addr del ::6/128 dev lo || true"], {
    env: { PATH: SYSTEMD_PATH },
  });
  assertEquals(r.code, 0, r.stderr);
}

/** Everything a boot run could have applied: the nft ruleset and lo's addresses. */
async function kernel(h: BootHost): Promise<string> {
  const r = await h.run(["sh", "-ec", "nft list ruleset; ip -6 addr show dev lo"], {
    env: { PATH: SYSTEMD_PATH },
  });
  assertEquals(r.code, 0, r.stderr);
  return r.stdout;
}

Deno.test("the boot run refuses a cut, empty, writable, foreign-owned or symlinked boot.yaml and applies nothing", async () => {
  await withBootHost(async (h) => {
    const install = await h.cli(["install", ...FLAGS, "--store-systemd"]);
    assertEquals(install.code, 0, install.stdout + install.stderr);
    const unit = await Deno.readTextFile(h.path(UNIT));
    const exec = unit.split("\n").find((l) => l.startsWith("ExecStart="))!.slice(10).split(" ");
    const boot = () => h.run(exec, { env: { PATH: SYSTEMD_PATH }, cwd: "/" });
    const file = h.path(CONFIG);
    const whole = await Deno.readTextFile(file);

    await reboot(h);
    const empty = await kernel(h);
    const refuses = async (what: string, reason: string) => {
      const r = await boot();
      assertEquals(r.code, 2, `${what}: ${r.stdout}${r.stderr}`);
      assertStringIncludes(r.stderr, `${CONFIG}`, what);
      assertStringIncludes(r.stderr, reason, what);
      assertStringIncludes(r.stderr, "refusing to apply any of it", what);
      assertEquals(r.stderr.trim().split("\n").length, 1, `${what}: one line\n${r.stderr}`);
      assertEquals(r.stdout, "", what);
    };

    const lines = whole.split("\n");
    assert(lines.length > 20 && whole.includes("- 22\n"), whole);
    for (let n = 0; n < lines.length - 1; n++) {
      // Writing over the file keeps its mode and owner: only the text is wrong.
      await Deno.writeTextFile(file, lines.slice(0, n).join("\n") + (n > 0 ? "\n" : ""));
      await refuses(`a cut after ${n} lines`, n === 0 ? "is empty" : "the stored config");
    }
    await Deno.writeTextFile(file, whole.replace("- 22\n", "- 2222\n"));
    await refuses("a changed port", "does not match its sha256 line");
    assertEquals(await kernel(h), empty, "no cut applied anything");

    await Deno.writeTextFile(file, whole);
    await Deno.chmod(file, 0o666);
    await refuses("mode 0666", "is writable by users other than root (mode 0666)");
    await Deno.chmod(file, 0o600);

    await Deno.chown(file, 65534, 65534);
    await refuses("owned by nobody", "is owned by UID 65534, not root");
    await Deno.chown(file, 0, 0);

    await Deno.rename(file, `${file}.target`);
    await Deno.symlink(`${CONFIG}.target`, file);
    await refuses("a symlink", "is a symbolic link");
    await Deno.remove(file);
    await Deno.rename(`${file}.target`, file);
    assertEquals(await kernel(h), empty, "nothing was applied");

    // The whole file, as install wrote it, still boots.
    const ok = await boot();
    assertEquals(ok.code, 0, ok.stdout + ok.stderr);
    assertStringIncludes(await kernel(h), "table inet kuma_mesh_transparent_proxy");
    const after = await h.cli(["status", "--config", CONFIG]);
    assertEquals(after.code, 0, after.stdout + after.stderr);
    assertStringIncludes(after.stdout, "matches config");

    // status sees what the boot run would refuse: the same bytes, writable by others.
    await Deno.chmod(file, 0o666);
    const status = await h.cli(["status", ...FLAGS, "--store-systemd"]);
    assertEquals(status.code, 3, status.stdout + status.stderr);
    assertStringIncludes(
      status.stdout,
      `${CONFIG} is writable by users other than root (mode 0666): the boot run refuses it`,
    );
    const statusStored = await h.cli(["status", "--config", CONFIG]);
    assertEquals(statusStored.code, 2, statusStored.stdout + statusStored.stderr);
    assertStringIncludes(statusStored.stderr, "refusing to apply any of it");
    // Another spelling of the same path is the same file.
    const dotted = await h.cli([
      "status",
      "--config",
      CONFIG.replace("/boot.yaml", "/./boot.yaml"),
    ]);
    assertEquals(dotted.code, 2, dotted.stdout + dotted.stderr);
    assertStringIncludes(dotted.stderr, "is writable by users other than root");
  });
});
