/**
 * kumactl's inputs through the real CLI in a network namespace (issue 21
 * items 6-8): values kumactl refuses or handles in a particular way, and the
 * warnings for configs that install but do not do what the user meant.
 *
 * Needs root and `ip netns` (run with --allow-all).
 */
import { assert, assertEquals, assertMatch, assertStringIncludes } from "../assert.ts";
import { type Netns, withNetns } from "../world/netns.ts";
import { addIPv6, ensureKumaDp, runCli } from "./cli_run.ts";

async function saves(ns: Netns): Promise<string> {
  let text = "";
  for (const cmd of ["iptables-save", "ip6tables-save"]) {
    text += (await ns.exec(cmd, [])).split("\n").filter((l) => !l.startsWith("#")).join("\n");
  }
  return text;
}

Deno.test("a kuma-dp UID getent would wrap is refused, and no look-alike of a UID resolves", async () => {
  await ensureKumaDp();
  await withNetns("uid", async (ns) => {
    const before = await saves(ns);
    // getent passwd 4294967296 answers root (its UID wraps at 2^32): refused as input.
    for (const uid of ["4294967296", "4294967297", "4294967295"]) {
      const r = await runCli(["install", "--kuma-dp-user", uid], { netns: ns });
      assertEquals(r.code, 2, `${uid}: ${r.stdout}${r.stderr}`);
      assertStringIncludes(r.stderr, `kumaDPUser: ${uid} from flag --kuma-dp-user`);
      assertStringIncludes(r.stderr, "0-4294967294");
      assertEquals(r.stdout, "");
      assertEquals(await saves(ns), before, `${uid} changed nothing`);
    }
    // getent reads these as UIDs too (strtoul: sign, blanks, wrap); kumactl
    // (Go's os/user) finds no such user, and neither may we.
    for (const user of ["+0", " 0", "-4294967295"]) {
      const r = await runCli(["install", "--kuma-dp-user", user], { netns: ns });
      assertEquals(r.code, 1, `'${user}': ${r.stdout}${r.stderr}`);
      assertStringIncludes(r.stderr, "is not a UID or user name known on this host");
      assertEquals(await saves(ns), before, `'${user}' changed nothing`);
    }
  });
});

Deno.test("install warns about a root kuma-dp user, equal redirect ports and a port both included and excluded", async () => {
  await ensureKumaDp();
  await withNetns("warn", async (ns) => {
    const cases: [string[], string][] = [
      [["--kuma-dp-user", "root"], "the kuma-dp user is root (UID 0)"],
      [["--kuma-dp-user", "0"], "the kuma-dp user is root (UID 0)"],
      [
        ["--kuma-dp-user", "5678", "--redirect-inbound-port", "15001"],
        "redirect.inbound.port and redirect.outbound.port are both 15001",
      ],
      [
        [
          "--kuma-dp-user",
          "5678",
          "--include-inbound-ports",
          "80,443",
          "--exclude-inbound-ports",
          "22,80",
        ],
        "port 80 is in both redirect.inbound.includePorts and redirect.inbound.excludePorts",
      ],
      [
        [
          "--kuma-dp-user",
          "5678",
          "--include-outbound-ports",
          "80,443",
          "--exclude-outbound-ports",
          "443,80",
        ],
        "ports 80 and 443 are in both redirect.outbound.includePorts and redirect.outbound.excludePorts",
      ],
    ];
    for (const [flags, warning] of cases) {
      for (const dry of [true, false]) {
        const args = [
          "install",
          ...(dry ? ["--dry-run"] : []),
          "--ip-family-mode",
          "ipv4",
          ...flags,
        ];
        const r = await runCli(args, { netns: ns });
        assertEquals(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
        assertStringIncludes(r.stderr, `# [WARNING] ${warning}`, args.join(" "));
      }
    }
    const plain = await runCli(["install", "--dry-run", "--kuma-dp-user", "5678"], { netns: ns });
    assertEquals(plain.code, 0, plain.stderr);
    for (const [, warning] of cases) {
      assert(!plain.stderr.includes(warning.split(" ").slice(0, 4).join(" ")), plain.stderr);
    }
  });
});

/**
 * kumactl chooses an address's family by Go's `To4()`, which is set for an
 * IPv4-mapped IPv6 address (`::ffff:10.0.0.1`): such an entry belongs to the
 * IPv4 rules (kuma pkg/transparentproxy/config/utils.go validateIP, the vnet
 * and DNS Initialize in config.go). Written there as the IPv4 address it
 * stands for, on both backends.
 */
Deno.test("IPv4-mapped addresses go into the IPv4 rules, on iptables and nftables", async () => {
  await ensureKumaDp();
  await withNetns("mapped", async (ns) => {
    await addIPv6(ns);
    const dir = await Deno.makeTempDir({ prefix: "ktp-mapped-" });
    try {
      await Deno.writeTextFile(`${dir}/resolv.conf`, "nameserver ::ffff:10.0.0.53\n");
      const args = [
        "--kuma-dp-user",
        "5678",
        "--exclude-outbound-ips",
        "::ffff:10.0.0.1,fd00:9::1",
        "--exclude-inbound-ips",
        "::ffff:a00:2",
        "--redirect-dns",
        "--vnet",
        "br9:::ffff:10.9.0.0/112",
      ];
      const env = { KUMA_TRANSPARENT_PROXY_REDIRECT_DNS_RESOLV_CONFIG_PATH: `${dir}/resolv.conf` };

      const install = await runCli(["install", ...args], { netns: ns, env });
      assertEquals(install.code, 0, install.stderr);
      const v4 = await ns.exec("iptables-save", ["-t", "nat"]);
      const v6 = await ns.exec("ip6tables-save", ["-t", "nat"]);
      assertMatch(v4, /^-A OUTPUT -d 10\.0\.0\.1\/32 .*-j RETURN$/m);
      assertStringIncludes(v4, "-A KUMA_MESH_INBOUND -s 10.0.0.2/32");
      assertStringIncludes(v4, "-d 10.0.0.53/32 -p udp");
      assertStringIncludes(v4, "! -d 10.9.0.0/16 -i br9");
      assertMatch(v6, /^-A OUTPUT -d fd00:9::1\/128 .*-j RETURN$/m);
      for (const v6only of ["ffff", "10.0.0.", "a00:"]) {
        assert(!v6.includes(v6only), `IPv6 rules hold ${v6only}:\n${v6}`);
      }
      const status = await runCli(["status", ...args], { netns: ns, env });
      assertEquals(status.code, 0, status.stdout + status.stderr);

      const nft = await runCli(["install", "--backend", "nftables", ...args], { netns: ns, env });
      assertEquals(nft.code, 0, nft.stderr);
      const table = await ns.exec("nft", ["list", "table", "inet", "kuma_mesh_transparent_proxy"]);
      assert(!table.includes("ffff"), table);
      assertMatch(table, /ip daddr (10\.0\.0\.1|@\S+)[^\n]* return/);
      assertMatch(table, /elements = \{[^}]*10\.0\.0\.1[^}]*\}/s);
      assertMatch(table, /ip daddr 10\.0\.0\.53 udp dport 53/);
      const nftStatus = await runCli(["status", "--backend", "nftables", ...args], {
        netns: ns,
        env,
      });
      assertEquals(nftStatus.code, 0, nftStatus.stdout + nftStatus.stderr);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
});

Deno.test("an IPv4-mapped CIDR shorter than /96 is refused: it is not one family", async () => {
  await withNetns("mapcidr", async (ns) => {
    const r = await runCli(
      ["install", "--kuma-dp-user", "5678", "--exclude-outbound-ips", "::ffff:10.0.0.0/8"],
      { netns: ns },
    );
    assertEquals(r.code, 2, r.stdout + r.stderr);
    assertStringIncludes(r.stderr, "redirect.outbound.excludePortsForIPs");
    assertStringIncludes(r.stderr, "::ffff:10.0.0.0/8");
  });
});

Deno.test("empty list entries are skipped as kumactl skips them (issue 21 item 8)", async () => {
  await ensureKumaDp();
  await withNetns("empty", async (ns) => {
    const r = await runCli([
      "install",
      "--ip-family-mode",
      "ipv4",
      "--kuma-dp-user",
      "5678",
      "--exclude-inbound-ports",
      "22,",
      "--exclude-outbound-ports",
      "22,,23",
      "--exclude-outbound-ips",
      "10.0.0.1,,10.0.0.2",
    ], { netns: ns });
    assertEquals(r.code, 0, r.stderr);
    const nat = await ns.exec("iptables-save", ["-t", "nat"]);
    assertMatch(nat, /^-A KUMA_MESH_INBOUND -p tcp .*--dport 22 -j RETURN$/m);
    for (const port of [22, 23]) {
      assertMatch(
        nat,
        new RegExp(`^-A KUMA_MESH_OUTBOUND -p tcp .*--dport ${port} -j RETURN$`, "m"),
      );
    }
    for (const ip of ["10.0.0.1", "10.0.0.2"]) {
      assertMatch(
        nat,
        new RegExp(`^-A OUTPUT -d ${ip.replaceAll(".", "\\.")}/32 .*-j RETURN$`, "m"),
      );
    }
  });
});
