/**
 * The boot run installs what the interactive run did (issue 22, item 1):
 * `install --store-systemd` on a dual-stack host, then the unit's ExecStart
 * in a fresh network namespace as at boot, before the network is up: `lo` up
 * (systemd brings it up before any unit), a NIC present but without any
 * address. Both families must come back, on both backends, and
 * `status --config boot.yaml` must say so, then and once the NIC has its
 * addresses.
 *
 * Needs root, `ip netns`, unshare/nsenter and overlayfs (run with --allow-all).
 */
import { assertEquals, assertStringIncludes } from "../assert.ts";
import { type BootHost, SYSTEMD_PATH, withBootHost } from "../world/boot_host.ts";
import { withNetns } from "../world/netns.ts";
import { KUMA_DP_UID } from "../world/world.ts";
import type { CliResult } from "./cli_run.ts";

const UNIT = "/etc/systemd/system/kuma-tproxy.service";
const CONFIG = "/etc/kuma-tproxy/boot.yaml";
const decoder = new TextDecoder();

/** `argv` in network namespace `netns` and the boot host's mount namespace, with systemd's PATH. */
async function inNetns(h: BootHost, netns: string, argv: string[]): Promise<CliResult> {
  // ip netns exec first (it opens the netns), then nsenter into the mount
  // namespace, whose private copy of /run/netns does not hold newer netns.
  const out = await new Deno.Command("ip", {
    args: ["netns", "exec", netns, ...h.mnt.argv, ...argv],
    cwd: "/",
    clearEnv: true,
    env: { PATH: SYSTEMD_PATH },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

for (const backend of ["iptables", "nftables"]) {
  Deno.test(`the boot run before the network is up installs both families, as install did (${backend})`, async () => {
    await withBootHost(async (h) => {
      const install = await h.cli([
        "install",
        ...["--backend", backend, "--kuma-dp-user", String(KUMA_DP_UID)],
        ...["--exclude-inbound-ports", "22", "--store-systemd"],
      ]);
      assertEquals(install.code, 0, install.stdout + install.stderr);
      assertStringIncludes(install.stdout, "IPv6 (");
      const unit = await Deno.readTextFile(h.path(UNIT));
      const exec = unit.split("\n").find((l) => l.startsWith("ExecStart="))!.slice(10).split(" ");

      await withNetns("boot6", async (ns) => {
        // The NIC exists (udev made it) but nothing configured it yet.
        await ns.exec("ip", ["link", "add", "eth0", "type", "veth", "peer", "name", "eth1"]);
        const boot = await inNetns(h, ns.name, exec);
        assertEquals(boot.code, 0, boot.stdout + boot.stderr);
        assertEquals(boot.stderr.includes("IPv4 only"), false, boot.stderr);
        assertStringIncludes(boot.stdout, "IPv6 (");
        const status = ["status", "--config", CONFIG];
        const before = await inNetns(h, ns.name, [exec[0], ...status]);
        assertEquals(before.code, 0, before.stdout + before.stderr);
        assertEquals(
          before.stdout.match(/^IPv[46]: installed .*matches config$/gm)?.length,
          2,
          before.stdout,
        );

        // The network comes up: the same answer.
        await ns.exec("ip", ["link", "set", "eth0", "up"]);
        await ns.exec("ip", ["link", "set", "eth1", "up"]);
        await ns.exec("ip", ["-6", "addr", "add", "fd00:6::1/64", "dev", "eth0", "nodad"]);
        const after = await inNetns(h, ns.name, [exec[0], ...status]);
        assertEquals(after.code, 0, after.stdout + after.stderr);
        assertEquals(
          after.stdout.match(/^IPv[46]: installed .*matches config$/gm)?.length,
          2,
          after.stdout,
        );
      });
    });
  });
}
