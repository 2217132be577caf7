/**
 * What uninstall, status and install promise about each IP family when the
 * host does not cooperate (issue 14 items 3 and 7, issue 13 item 12):
 * - ip6tables tools missing or broken after a dual-stack install: uninstall
 *   removes IPv4, names the IPv6 remainder and exits non-zero; status says
 *   IPv6 cannot be inspected;
 * - IPv6 disabled in the namespace: install and status say IPv4 only;
 * - a dual-stack re-install finds ::6 already on lo and says nothing.
 *
 * The broken tools live in a private mount namespace: an overlay over
 * /usr/sbin whose upper dir holds failing scripts under the ip6tables names
 * (a bind mount would follow the symlinks to xtables-nft-multi and break
 * IPv4 too). Needs root, `ip netns`, unshare/nsenter, overlayfs.
 */
import { assert, assertEquals, assertStringIncludes } from "../assert.ts";
import { MountNs } from "../world/firewalld_host.ts";
import { type Netns, withNetns } from "../world/netns.ts";
import { addIPv6, type CliResult, ensureKumaDp, runCli } from "./cli_run.ts";
import { snapshot, tools } from "./iptables_fixtures.ts";

const KUMA_DP = ["--kuma-dp-user", "5678"];
const FAST = ["--max-retries", "0", "--sleep-between-retries", "10ms"];

/** A mount namespace in which the named /usr/sbin entries are replaced by `scripts`. */
async function withReplacedTools<T>(
  scripts: Record<string, string>,
  fn: (run: (ns: Netns, args: string[]) => Promise<CliResult>) => Promise<T>,
): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "ktp-tools-" });
  const mnt = await MountNs.create();
  try {
    await Deno.mkdir(`${dir}/up`);
    await Deno.mkdir(`${dir}/work`);
    for (const [name, text] of Object.entries(scripts)) {
      await Deno.writeTextFile(`${dir}/up/${name}`, text, { mode: 0o755 });
    }
    await mnt.sh(
      `mount -t overlay overlay -o 'lowerdir=/usr/sbin,upperdir=${dir}/up,workdir=${dir}/work' /usr/sbin`,
    );
    return await fn((ns, args) => runCli(args, { netns: ns, mountNs: mnt.argv }));
  } finally {
    await mnt.destroy();
    await Deno.remove(dir, { recursive: true });
  }
}

const BROKEN = "#!/bin/sh\necho 'ip6tables: simulated breakage' >&2\nexit 1\n";
const IP6TABLES_NAMES = ["", "-nft", "-legacy"].flatMap((mode) =>
  ["", "-save", "-restore"].map((tool) => `ip6tables${mode}${tool}`)
);

const hasOurs = async (ns: Netns, family: 4 | 6) =>
  (await snapshot(ns, tools("nft", family))).includes("KUMA_MESH");

Deno.test("uninstall without working ip6tables removes IPv4, names the IPv6 remainder and fails; status says so", async () => {
  await ensureKumaDp();
  await withNetns("no6", async (ns) => {
    await addIPv6(ns);
    const install = await runCli(["install", ...KUMA_DP], { netns: ns });
    assertEquals(install.code, 0, install.stderr);
    assert(await hasOurs(ns, 6), "the install put IPv6 rules in place");

    await withReplacedTools(
      Object.fromEntries(IP6TABLES_NAMES.map((n) => [n, BROKEN])),
      async (run) => {
        const status = await run(ns, ["status", ...KUMA_DP]);
        assertEquals(status.code, 3, status.stdout + status.stderr);
        assertStringIncludes(status.stdout, "IPv4: installed (nft), matches config");
        assertStringIncludes(
          status.stdout,
          "IPv6 (nft): cannot be inspected, our rules may be there",
        );

        const u = await run(ns, ["uninstall"]);
        assertEquals(u.code, 1, u.stdout + u.stderr);
        assertStringIncludes(u.stdout, "IPv4 (nft): removed");
        assertStringIncludes(u.stderr, "uninstall is incomplete: removed from IPv4 (nft)");
        assertStringIncludes(u.stderr, "IPv6 (nft) cannot be inspected: no working ip6tables");
        assertEquals(u.stderr.includes("transparent proxy rules removed"), false, u.stderr);
      },
    );
    assertEquals(await hasOurs(ns, 4), false, "IPv4 is clean");
    assert(await hasOurs(ns, 6), "IPv6 could not be removed, and was said to remain");

    // With the tools back, the same command finishes the job.
    const again = await runCli(["uninstall"], { netns: ns });
    assertEquals(again.code, 0, again.stderr);
    assertStringIncludes(again.stdout, "IPv6 (nft): removed");
  });
});

Deno.test("uninstall failing in IPv6 after IPv4 was removed says which family was removed", async () => {
  await ensureKumaDp();
  await withNetns("fail6", async (ns) => {
    await addIPv6(ns);
    const install = await runCli(["install", ...KUMA_DP], { netns: ns });
    assertEquals(install.code, 0, install.stderr);
    // Detection and reading work; applying the IPv6 removal fails.
    const restore = `#!/bin/sh
case " $* " in *" --version "*) exec /usr/sbin/xtables-nft-multi ip6tables-nft-restore "$@" ;; esac
cat > /dev/null   # read the input as iptables-restore does, then fail
echo 'ip6tables-restore: simulated failure' >&2
exit 4
`;
    await withReplacedTools({ "ip6tables-nft-restore": restore }, async (run) => {
      const u = await run(ns, ["uninstall", ...FAST]);
      assertEquals(u.code, 1, u.stdout + u.stderr);
      assertStringIncludes(u.stderr, "removed from IPv4 (nft)");
      assertStringIncludes(u.stderr, "IPv6 (nft): removing");
      assertStringIncludes(u.stderr, "simulated failure");
    });
    assertEquals(await hasOurs(ns, 4), false, "IPv4 is clean");
    assert(await hasOurs(ns, 6), "IPv6 remains, as reported");
  });
});

Deno.test("dual-stack install with IPv6 disabled in the namespace says it configures IPv4 only, and status too", async () => {
  await ensureKumaDp();
  await withNetns("v6off", async (ns) => {
    await addIPv6(ns);
    await ns.exec("sysctl", ["-q", "-w", "net.ipv6.conf.all.disable_ipv6=1"]);
    await ns.exec("sysctl", ["-q", "-w", "net.ipv6.conf.lo.disable_ipv6=1"]);
    const install = await runCli(["install", ...KUMA_DP], { netns: ns });
    assertEquals(install.code, 0, install.stderr);
    assertStringIncludes(
      install.stderr,
      "IPv6 is disabled on this host (no interface has an IPv6 address, not even ::1): configuring IPv4 only",
    );
    assertStringIncludes(install.stdout, "IPv4 (nft): installed");
    assertEquals(install.stdout.includes("IPv6"), false, install.stdout);

    const status = await runCli(["status", ...KUMA_DP], { netns: ns });
    assertEquals(status.code, 0, status.stdout + status.stderr);
    assertStringIncludes(status.stdout, "IPv6: not configured: IPv6 is disabled on this host");
  });
});

Deno.test("a dual-stack re-install accepts ::6 already on lo without a warning", async () => {
  await ensureKumaDp();
  await withNetns("six", async (ns) => {
    await addIPv6(ns);
    for (const round of ["install", "re-install"]) {
      const r = await runCli(["install", ...KUMA_DP], { netns: ns });
      assertEquals(r.code, 0, r.stderr);
      assertEquals(r.stderr.includes("::6/128"), false, `${round}: ${r.stderr}`);
    }
    assertStringIncludes(await ns.exec("ip", ["-6", "addr", "show", "dev", "lo"]), "::6/128");
  });
});
