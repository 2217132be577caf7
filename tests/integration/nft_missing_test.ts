/**
 * Our nft table in the kernel and no nft command (issue 21 item 4), through
 * the real CLI: nothing claims the table is gone or absent. nft is hidden by
 * binding /dev/null over /usr/sbin/nft (and a PATH without it) in a private
 * mount namespace, so the machine's nft is never touched; `fresh` also puts
 * a tmpfs over /run there, as after a reboot. Needs root and `ip netns`.
 */
import { assert, assertEquals, assertStringIncludes } from "../assert.ts";
import { type Netns, withNetns } from "../world/netns.ts";
import { snapshot, tools } from "./iptables_fixtures.ts";
import { type CliResult, ensureKumaDp, KUMA_TPROXY, runCli } from "./cli_run.ts";

const KUMA_DP = ["--kuma-dp-user", "5678"];
const T = "inet kuma_mesh_transparent_proxy";
const decoder = new TextDecoder();

/** Runs the CLI in `ns` with no nft to find. */
async function withoutNft(ns: Netns, args: string[], fresh = false): Promise<CliResult> {
  const hide = "mount --bind /dev/null /usr/sbin/nft && " +
    (fresh ? "mount -t tmpfs tmpfs /run && " : "") + 'exec "$@"';
  const out = await new Deno.Command("ip", {
    args: [
      "netns",
      "exec",
      ns.name,
      "unshare",
      "-m",
      "--propagation",
      "private",
      "sh",
      "-c",
      hide,
      "sh",
      KUMA_TPROXY,
      ...args,
    ],
    clearEnv: true,
    env: { PATH: "/usr/bin:/bin", HOME: Deno.env.get("HOME") ?? "/root" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

async function state(ns: Netns): Promise<string> {
  return [
    await ns.exec("nft", ["list", "ruleset"]),
    await snapshot(ns, tools("nft", 4)),
    await snapshot(ns, tools("nft", 6)),
  ].join("\n=====\n");
}

Deno.test("no nft command: with our table in the kernel, uninstall, status and an iptables install do not claim it is gone", async () => {
  await ensureKumaDp();
  await withNetns("nftgone", async (ns) => {
    const install = await runCli(["install", "--backend", "nftables", ...KUMA_DP], { netns: ns });
    assertEquals(install.code, 0, install.stderr);
    const before = await state(ns);

    const uninstall = await withoutNft(ns, ["uninstall"]);
    assertEquals(uninstall.code, 1, uninstall.stdout + uninstall.stderr);
    assert(!uninstall.stderr.includes("transparent proxy rules removed"), uninstall.stderr);
    assertStringIncludes(uninstall.stderr, `${T} cannot be inspected`);
    assertStringIncludes(uninstall.stderr, `nft delete table ${T}`);
    assertEquals(await state(ns), before);

    // A backend it cannot read: 3 (src/ops/exit_codes.ts), as for an
    // unreadable ip6tables, never 4 "not installed"; the gap is named.
    const status = await withoutNft(ns, ["status", ...KUMA_DP]);
    assertEquals(status.code, 3, status.stdout + status.stderr);
    // Only the iptables backend, which it can read, is "not installed".
    assertEquals(
      status.stdout.split("\n").filter((l) => l.includes("not installed")),
      ["IPv4: not installed (nft)", "IPv6: not installed (nft)"],
    );
    assertStringIncludes(
      status.stdout,
      `IPv4 (nftables): cannot be inspected, our rules may be there: ${T} cannot be inspected`,
    );
    assertStringIncludes(status.stdout, `nft delete table ${T}`);
    const json = await withoutNft(ns, ["status", "--json", ...KUMA_DP]);
    assertEquals(json.code, 3, json.stdout + json.stderr);
    const report = JSON.parse(json.stdout);
    assertEquals(
      report.uninspected.map((n: { family: number; mode: string }) => `${n.family} ${n.mode}`),
      ["4 nftables", "6 nftables"],
    );

    const ipt = await withoutNft(ns, ["install", ...KUMA_DP]);
    assertEquals(ipt.code, 1, ipt.stdout + ipt.stderr);
    assertStringIncludes(ipt.stderr, "Nothing was changed");
    assertEquals(await state(ns), before);

    // With nft back, uninstall removes it.
    const done = await runCli(["uninstall"], { netns: ns });
    assertEquals(done.code, 0, done.stderr);
    assert(!(await ns.exec("nft", ["list", "ruleset"])).includes("kuma_mesh_transparent_proxy"));
  });
});

Deno.test("no nft command and no nftables install since boot: the iptables backend works as before", async () => {
  await ensureKumaDp();
  await withNetns("nftnever", async (ns) => {
    const install = await withoutNft(ns, ["install", ...KUMA_DP], true);
    assertEquals(install.code, 0, install.stderr);
    const status = await withoutNft(ns, ["status", ...KUMA_DP], true);
    assertEquals(status.code, 0, status.stdout + status.stderr);
    const uninstall = await withoutNft(ns, ["uninstall"], true);
    assertEquals(uninstall.code, 0, uninstall.stderr);
    assertStringIncludes(uninstall.stderr, "transparent proxy rules removed");
  });
});
