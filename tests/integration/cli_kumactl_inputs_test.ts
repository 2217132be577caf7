/**
 * kumactl's inputs through the real CLI in a network namespace (issue 21
 * items 6-8): values kumactl refuses or handles in a particular way, and the
 * warnings for configs that install but do not do what the user meant.
 *
 * Needs root and `ip netns` (run with --allow-all).
 */
import { assert, assertEquals, assertStringIncludes } from "../assert.ts";
import { type Netns, withNetns } from "../world/netns.ts";
import { ensureKumaDp, runCli } from "./cli_run.ts";

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
