/**
 * SIGTERM during a backend switch ends with the old rules or the new ones,
 * never both, and the message says which (issue 22, item 4). The signal
 * comes from a wrapper at a child's exec (over /usr/sbin in a private mount
 * namespace, tests/world/private_mounts.ts), which sends it to the CLI and
 * then runs the real tool:
 * - at the iptables apply's ip6tables-nft-restore: the apply is rolled back;
 * - at the cleanup step after the new rules are in (the nft delete after an
 *   iptables apply; the ip6tables-nft-restore that removes our iptables rules
 *   after an nft apply): the switch is finished.
 *
 * Needs root, `ip netns`, unshare and overlayfs (run with --allow-all).
 */
import { assert, assertEquals, assertStringIncludes } from "../assert.ts";
import { type Netns, withNetns } from "../world/netns.ts";
import { snapshot, tools } from "./iptables_fixtures.ts";
import { addIPv6, type CliResult, ensureKumaDp, KUMA_TPROXY, runCli } from "./cli_run.ts";
import { FINISHING_SWITCH } from "../../src/ops/switch_interrupt.ts";
import { runPrivately } from "../world/private_mounts.ts";

const KUMA_DP = ["--kuma-dp-user", "5678"];
const NFT = ["--backend", "nftables"];
const OUR_TABLE = "table inet kuma_mesh_transparent_proxy";

/**
 * Runs the CLI in `ns` with `wrappers` (bash bodies by /usr/sbin name) over
 * /usr/sbin. In a body, `$NFT` is the real nft, `$MARK` a file that does not
 * exist until a body creates it (to act once), and `$PPID` the CLI.
 */
function cliWithWrappers(
  ns: Netns,
  wrappers: Record<string, string>,
  args: string[],
): Promise<CliResult> {
  return runPrivately([KUMA_TPROXY, ...args], {
    wrappers: Object.fromEntries(
      Object.entries(wrappers).map(([name, body]) => [`/usr/sbin/${name}`, body]),
    ),
    prelude: "NFT=$ORIG/usr/sbin/nft\nMARK=$STATE/signalled",
  }, { netns: ns.name });
}

/** SIGTERM to the CLI once, when the tool runs for real (not --version, --test or --check). */
const TERM_ONCE = `if [[ " $* " != *" --version "* && " $* " != *" --test "* && ` +
  `" $* " != *" --check "* && ! -e $MARK ]]; then touch $MARK; kill -TERM $PPID; fi`;

/** ip6tables-nft-restore through xtables-nft-multi, which the overlay leaves in place. */
const IP6_RESTORE = `${TERM_ONCE}\nexec /usr/sbin/xtables-nft-multi ip6tables-nft-restore "$@"`;

async function state(ns: Netns): Promise<{ iptables: boolean; nft: boolean }> {
  const saves = await snapshot(ns, tools("nft", 4)) + await snapshot(ns, tools("nft", 6));
  const ruleset = await ns.exec("nft", ["list", "ruleset"]);
  return {
    iptables: saves.includes("KUMA_MESH"),
    nft: ruleset.includes(OUR_TABLE),
  };
}

Deno.test("SIGTERM during the iptables apply of an nftables -> iptables switch puts the nft table back alone", async () => {
  await ensureKumaDp();
  await withNetns("sigapply", async (ns) => {
    await addIPv6(ns);
    const nft = await runCli(["install", ...NFT, ...KUMA_DP], { netns: ns });
    assertEquals(nft.code, 0, nft.stderr);
    const r = await cliWithWrappers(ns, { "ip6tables-nft-restore": IP6_RESTORE }, [
      "install",
      ...KUMA_DP,
    ]);
    assertEquals(r.code, 1, r.stdout + r.stderr);
    assertStringIncludes(r.stderr, "putting the previous rules back");
    assertEquals(await state(ns), { iptables: false, nft: true }, r.stderr);
  });
});

Deno.test("SIGTERM at the nft delete after the iptables apply finishes the nftables -> iptables switch", async () => {
  await ensureKumaDp();
  await withNetns("sigdel", async (ns) => {
    await addIPv6(ns);
    const nft = await runCli(["install", ...NFT, ...KUMA_DP], { netns: ns });
    assertEquals(nft.code, 0, nft.stderr);
    const r = await cliWithWrappers(ns, {
      nft: `[[ " $* " == *" -f "* ]] && ${TERM_ONCE}\nexec "$NFT" "$@"`,
    }, ["install", ...KUMA_DP]);
    assertEquals(r.code, 0, r.stdout + r.stderr);
    assertStringIncludes(r.stderr, FINISHING_SWITCH);
    assertStringIncludes(r.stdout, "removed the table");
    assertEquals(await state(ns), { iptables: true, nft: false }, r.stderr);
  });
});

Deno.test("SIGTERM during the iptables cleanup finishes the iptables -> nftables switch and says so", async () => {
  await ensureKumaDp();
  await withNetns("sigclean", async (ns) => {
    await addIPv6(ns);
    const ipt = await runCli(["install", ...KUMA_DP], { netns: ns });
    assertEquals(ipt.code, 0, ipt.stderr);
    const r = await cliWithWrappers(ns, { "ip6tables-nft-restore": IP6_RESTORE }, [
      "install",
      ...NFT,
      ...KUMA_DP,
    ]);
    assertEquals(r.code, 0, r.stdout + r.stderr);
    assertStringIncludes(r.stderr, FINISHING_SWITCH);
    assert(!r.stderr.includes("putting the previous rules back"), r.stderr);
    assertEquals(await state(ns), { iptables: false, nft: true }, r.stderr);
  });
});
