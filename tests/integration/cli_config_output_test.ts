/**
 * `kuma-tproxy config --output FILE` through the real CLI and its real
 * permissions (issue 24 item 3): it writes /etc/kuma-tproxy/kuma-dp.yaml
 * (in a private mount namespace over an overlay of /etc), mode 0644, which
 * `config --config FILE` reads back to the same settings; elsewhere, a
 * directory or a symlink is refused with exit 2 and nothing written, and
 * `--output -` prints the same text.
 *
 * Needs root, `ip netns`, unshare/nsenter and overlayfs (run with --allow-all).
 */
import { assertEquals, assertStringIncludes } from "../assert.ts";
import { withBootHost } from "../world/boot_host.ts";
import { runCli } from "./cli_run.ts";

const FILE = "/etc/kuma-tproxy/kuma-dp.yaml";
const FLAGS = [
  ...["--kuma-dp-user", "5678", "--ip-family-mode", "ipv4", "--redirect-all-dns-traffic"],
  ...["--exclude-inbound-ports", "22", "--exclude-outbound-ips", "10.0.0.0/8"],
  ...["--vnet", "docker0:172.17.0.0/16", "--backend", "nftables"],
];

Deno.test("config --output writes a file that config --config reads back to the same settings", async () => {
  await withBootHost(async (h) => {
    const mkdir = await h.run(["mkdir", "-p", "/etc/kuma-tproxy"], { netns: false });
    assertEquals(mkdir.code, 0, mkdir.stderr);
    const wrote = await h.cli(["config", ...FLAGS, "--output", FILE]);
    assertEquals(wrote.code, 0, wrote.stdout + wrote.stderr);
    assertEquals(wrote.stdout, "");
    assertStringIncludes(wrote.stderr, `wrote ${FILE}`);
    assertEquals((await Deno.stat(h.path(FILE))).mode! & 0o7777, 0o644);
    const text = await Deno.readTextFile(h.path(FILE));
    assertStringIncludes(text, "\nipFamilyMode: ipv4\n");
    assertStringIncludes(text, "      - docker0:172.17.0.0/16\n");

    const direct = await h.cli(["config", ...FLAGS]);
    const back = await h.cli(["config", "--config", FILE]);
    assertEquals(back.code, 0, back.stderr);
    assertEquals(back.stdout, direct.stdout);

    // `--output -` prints the same file, for a path the tool may not write.
    const printed = await h.cli(["config", ...FLAGS, "--output", "-"]);
    assertEquals(printed.code, 0, printed.stderr);
    assertEquals(printed.stderr, "");
    assertEquals(printed.stdout, text);
  });
});

Deno.test("config --output - with --explain is refused: both would go to stdout", async () => {
  const r = await runCli(["config", "--explain", "--output", "-"]);
  assertEquals(r.code, 2, r.stdout + r.stderr);
  assertEquals(r.stdout, "");
  assertStringIncludes(r.stderr, "drop --explain");
});

Deno.test("config --output refuses a directory, a symlink and a path outside its grant", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.symlink(`${dir}/target`, `${dir}/link`);
    for (
      const [path, reason] of [
        [dir, "is not a regular file"],
        [`${dir}/link`, "is a symlink"],
        [`${dir}/new.yaml`, `may write only under /etc/kuma-tproxy`],
      ]
    ) {
      const r = await runCli(["config", "--output", path]);
      assertEquals(r.code, 2, r.stdout + r.stderr);
      assertStringIncludes(r.stderr, reason);
      if (path.endsWith("new.yaml")) assertStringIncludes(r.stderr, `--output - > ${path}`);
      assertEquals(r.stderr.trim().split("\n").length, 1, r.stderr);
    }
    const names = [];
    for await (const entry of Deno.readDir(dir)) names.push(entry.name);
    assertEquals(names, ["link"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
