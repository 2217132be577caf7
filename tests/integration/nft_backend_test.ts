/**
 * `--backend nftables` through the real CLI in throw-away namespaces:
 * foreign nft tables stay byte-identical, a table that only looks like ours
 * is refused, missing pieces fail before anything changes, a failure after
 * the nft transaction puts the previous state back, and switching backends
 * leaves rules in one place only.
 *
 * Faults are injected by a wrapper bind-mounted over /usr/sbin/nft in a
 * private mount namespace (`unshare -m`), so the machine's nft is never
 * touched. Needs root, `ip netns` and unshare (run with --allow-all).
 */
import { assert, assertEquals, assertStringIncludes } from "../assert.ts";
import { type Netns, withNetns } from "../world/netns.ts";
import { snapshot, tools } from "./iptables_fixtures.ts";
import {
  addIPv6,
  type CliResult,
  ensureKumaDp,
  KUMA_TPROXY,
  REPO_ROOT,
  runCli,
} from "./cli_run.ts";
import { nftScriptForCase } from "../unit/nftables/helpers.ts";
import { runPrivately } from "../world/private_mounts.ts";

const KUMA_DP = ["--kuma-dp-user", "5678"];
const NFT = ["--backend", "nftables"];
const OUR_TABLE = "table inet kuma_mesh_transparent_proxy {";

/** The nft ruleset, one table a block, sorted (nft lists tables in creation order). */
async function ruleset(ns: Netns): Promise<string> {
  const text = await ns.exec("nft", ["list", "ruleset"]);
  return text.split(/\n(?=table )/).map((t) => t.trimEnd()).filter((t) => t !== "").sort()
    .join("\n");
}

/** iptables (nft backend, both families) and the nft ruleset: everything a run may change. */
async function state(ns: Netns): Promise<string> {
  return [
    await snapshot(ns, tools("nft", 4)),
    await snapshot(ns, tools("nft", 6)),
    await ruleset(ns),
  ].join("\n=====\n");
}

/**
 * Runs the CLI in `ns` with `wrapper` (a bash script body; `$REAL` is the
 * real nft) over /usr/sbin/nft in a private mount namespace
 * (tests/world/private_mounts.ts). `allowAll` runs src/main.ts with
 * --allow-all, for executables in a temp dir.
 */
function cliWithNft(
  ns: Netns,
  wrapper: string,
  args: string[],
  allowAll = false,
): Promise<CliResult> {
  const cli = allowAll
    ? [`${REPO_ROOT}/scripts/deno`, "run", "--quiet", "--allow-all", `${REPO_ROOT}/src/main.ts`]
    : [KUMA_TPROXY];
  return runPrivately([...cli, ...args], { wrappers: { "/usr/sbin/nft": wrapper } }, {
    netns: ns.name,
  });
}

/** Passes everything through, except what `when` (a bash test on "$*" and $input) selects. */
function failing(when: string, stderr: string): string {
  return `input=""
if [[ " $* " == *" -f "* ]]; then input=$(cat); fi
if ${when}; then echo ${JSON.stringify(stderr)} >&2; exit 1; fi
if [[ " $* " == *" -f "* ]]; then printf '%s' "$input" | exec "$REAL" "$@"; fi
exec "$REAL" "$@"`;
}

const ADMIN_TABLES = `table inet admin {
\tset blocked {
\t\ttype ipv4_addr
\t\tflags interval
\t\telements = { 192.0.2.0/24 }
\t}

\tchain input {
\t\ttype filter hook input priority 0; policy accept;
\t\tip saddr @blocked drop comment "admin"
\t}
}
table inet kuma_mesh_transparent_proxyX {
\tchain c {
\t\tmeta l4proto tcp return comment "kuma/mesh/transparent/proxyX admin"
\t}
}
table ip kuma_mesh_transparent_proxy {
\tchain c {
\t\tmeta l4proto tcp return comment "kuma/mesh/transparent/proxy/same name, other family"
\t}
}
`;

/** A foreign `ip nat` table as iptables-nft makes it. */
const IPTABLES_NAT = `*nat
-A OUTPUT -p tcp --dport 9999 -m comment --comment "admin nat" -j RETURN
-A PREROUTING -p tcp --dport 8080 -j REDIRECT --to-ports 80
COMMIT
`;

Deno.test("nftables backend: foreign nft tables (admin inet, iptables-nft ip nat, look-alikes) stay byte-identical", async () => {
  await ensureKumaDp();
  await withNetns("nftforeign", async (ns) => {
    await addIPv6(ns);
    await ns.exec("nft", ["-f", "-"], ADMIN_TABLES);
    await ns.exec("iptables-nft-restore", ["--noflush"], IPTABLES_NAT);
    const before = await state(ns);
    const install = await runCli(["install", ...NFT, ...KUMA_DP], { netns: ns });
    assertEquals(install.code, 0, install.stderr);
    const installed = await ruleset(ns);
    assertStringIncludes(installed, OUR_TABLE);
    // Everything else is as it was: our table is one more block.
    assertEquals(
      installed.split(/\n(?=table )/).filter((t) => !t.startsWith(OUR_TABLE)).join("\n"),
      before.split("\n=====\n")[2],
    );
    const uninstall = await runCli(["uninstall"], { netns: ns });
    assertEquals(uninstall.code, 0, uninstall.stderr);
    assertStringIncludes(uninstall.stdout, "nftables (inet kuma_mesh_transparent_proxy): removed");
    assertEquals(await state(ns), before);
  });
});

Deno.test("nftables backend: a table with our name but a foreign rule is refused by install and uninstall", async () => {
  await ensureKumaDp();
  await withNetns("nftnotours", async (ns) => {
    const first = await runCli(["install", ...NFT, ...KUMA_DP], { netns: ns });
    assertEquals(first.code, 0, first.stderr);
    await ns.exec("nft", [
      'add rule inet kuma_mesh_transparent_proxy nat_output tcp dport 2222 accept comment "kuma/mesh/transparent/proxyX admin"',
    ]);
    const before = await state(ns);
    const install = await runCli(["install", ...NFT, ...KUMA_DP], { netns: ns });
    assertEquals(install.code, 1, install.stderr);
    assertStringIncludes(install.stderr, "do not carry our comment");
    const uninstall = await runCli(["uninstall"], { netns: ns });
    assertEquals(uninstall.code, 1, uninstall.stderr);
    assertStringIncludes(uninstall.stderr, "left alone");
    assertEquals(await state(ns), before);
  });
});

Deno.test("nftables backend: missing nft, a kernel without inet nat, a missing module or a failing nft -f change nothing", async (t) => {
  await ensureKumaDp();
  await withNetns("nftmissing", async (ns) => {
    await addIPv6(ns);
    // The earlier installation every failure must leave exactly as it is.
    const old = await runCli(["install", ...NFT, ...KUMA_DP, "--exclude-outbound-ports", "25"], {
      netns: ns,
    });
    assertEquals(old.code, 0, old.stderr);
    const before = await state(ns);
    const cases: [string, string, string][] = [
      ["no nft binary", `echo "nft: not found" >&2; exit 127`, "needs the nft command"],
      [
        "kernel without inet nat",
        failing(
          `[[ " $* " == *" --check "* && "$input" == *_probe* ]]`,
          "Error: Could not process rule: Operation not supported",
        ),
        "cannot do nat in nftables inet tables",
      ],
      [
        "missing module",
        failing(
          `[[ " $* " == *" --check "* && "$input" == *"ct zone set"* ]]`,
          "Error: Could not process rule: No such file or directory",
        ),
        "missing nftables module",
      ],
      [
        "nft -f fails",
        failing(
          `[[ " $* " != *" --check "* && "$input" == *"delete table"* ]]`,
          "Error: injected failure",
        ),
        "nft -f failed, nothing was changed",
      ],
    ];
    for (const [name, wrapper, says] of cases) {
      await t.step(name, async () => {
        const r = await cliWithNft(ns, wrapper, [
          "install",
          ...NFT,
          ...KUMA_DP,
          "--redirect-dns-port",
          "15053",
          "--redirect-all-dns-traffic",
        ]);
        assertEquals(r.code, 1, r.stderr);
        assertStringIncludes(r.stderr, says);
        assertStringIncludes(r.stderr.toLowerCase(), "nothing was changed");
        assertEquals(await state(ns), before);
      });
    }
  });
});

Deno.test("nftables backend: when our iptables rules cannot be removed after the transaction, the nft table is put back", async () => {
  await ensureKumaDp();
  const dir = await Deno.makeTempDir({ prefix: "ktp-nftrollback-" });
  try {
    const restore = `${dir}/iptables-restore`;
    // Fails the real removal; --test and --version pass.
    await Deno.writeTextFile(
      restore,
      `#!/bin/bash\ncase " $* " in *" --test "*|*" --version "*) ;; *) echo "iptables-restore: line 2 failed" >&2; exit 1;; esac\nexec /usr/sbin/iptables-nft-restore "$@"\n`,
    );
    await Deno.chmod(restore, 0o755);
    const exes = [
      "iptables:/usr/sbin/iptables-nft",
      "iptables-save:/usr/sbin/iptables-nft-save",
      `iptables-restore:${restore}`,
    ].join(",");
    await withNetns("nftrollback", async (ns) => {
      const v4 = ["--ip-family-mode", "ipv4"];
      const old = await runCli(["install", ...KUMA_DP, ...v4], { netns: ns });
      assertEquals(old.code, 0, old.stderr);
      const before = await state(ns);
      const r = await cliWithNft(
        ns,
        `exec "$REAL" "$@"`,
        [
          "install",
          ...NFT,
          ...KUMA_DP,
          ...v4,
          "--iptables-executables",
          exes,
          "--max-retries",
          "0",
        ],
        true,
      );
      assertEquals(r.code, 1, r.stderr);
      assertStringIncludes(
        r.stderr,
        "the nft table was put back as it was before this install (none)",
      );
      assertEquals(await state(ns), before);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("nftables backend: switching backends moves the rules, ours and kumactl's, to one place", async () => {
  await ensureKumaDp();
  await withNetns("nftswitch", async (ns) => {
    await addIPv6(ns);
    // iptables creates its nat tables and leaves them: have them from the start.
    await ns.exec("iptables-nft-restore", ["--noflush"], IPTABLES_NAT);
    await ns.exec("ip6tables-nft-restore", ["--noflush"], IPTABLES_NAT);
    const pristine = await state(ns);
    // kumactl's own rule set (its iptables-nft golden) loaded into the legacy backend, ours into nft.
    const golden = await Deno.readTextFile(
      new URL("../testdata/kuma-goldens/debian-12-default.iptables-nft.golden", import.meta.url),
    );
    await ns.exec(
      "iptables-legacy-restore",
      ["--noflush"],
      golden.replaceAll("ifPlaceholder", "lo"),
    );
    assert((await snapshot(ns, tools("legacy", 4))).includes(":KUMA_MESH_OUTBOUND"));
    const ipt = await runCli(["install", ...KUMA_DP], { netns: ns });
    assertEquals(ipt.code, 0, ipt.stderr);
    assert((await snapshot(ns, tools("nft", 6))).includes(":KUMA_MESH_OUTBOUND"));
    const nft = await runCli(["install", ...NFT, ...KUMA_DP], { netns: ns });
    assertEquals(nft.code, 0, nft.stderr);
    assertStringIncludes(nft.stderr, "removed the iptables installation from IPv6 (nft)");
    for (const mode of ["nft", "legacy"] as const) {
      for (const f of [4, 6] as const) {
        const save = await snapshot(ns, tools(mode, f));
        assert(!save.includes("KUMA_MESH"), `IPv${f} iptables-${mode}`);
      }
    }
    const status = await runCli(["status", ...NFT, ...KUMA_DP], { netns: ns });
    assertEquals(status.code, 0, status.stdout + status.stderr);
    assertEquals(
      status.stdout,
      "IPv4: installed (nftables), matches config\nIPv6: installed (nftables), matches config\n",
    );
    // status under the other backend sees the table as drift.
    const other = await runCli(["status", ...KUMA_DP], { netns: ns });
    assertEquals(other.code, 3, other.stdout);
    const back = await runCli(["install", ...KUMA_DP], { netns: ns });
    assertEquals(back.code, 0, back.stderr);
    assert(!(await ruleset(ns)).includes(OUR_TABLE), "our nft table after --backend iptables");
    const removed = await runCli(["uninstall"], { netns: ns });
    assertEquals(removed.code, 0, removed.stderr);
    assertEquals(await state(ns), pristine);
  });
});

Deno.test("nftables backend: --dry-run prints exactly the script install applies, and changes nothing", async () => {
  await ensureKumaDp();
  await withNetns("nftdry", async (ns) => {
    await addIPv6(ns);
    const before = await state(ns);
    const dry = await runCli(["install", ...NFT, "--kuma-dp-user", "kuma-dp", "--dry-run"], {
      netns: ns,
    });
    assertEquals(dry.code, 0, dry.stderr);
    assertEquals(dry.stdout, await nftScriptForCase("default"));
    assertEquals(await state(ns), before);
    // --store-firewalld has nothing to store with nftables: the same script, and a note saying so.
    const store = await runCli(
      ["install", ...NFT, "--kuma-dp-user", "kuma-dp", "--dry-run", "--store-firewalld"],
      { netns: ns },
    );
    assertEquals(store.code, 0, store.stderr);
    assertEquals(store.stdout, dry.stdout);
    assertStringIncludes(store.stderr, "--store-firewalld does nothing with --backend nftables");
    // The printed script is what install loads: applying it by hand gives the same table.
    await ns.exec("nft", ["-f", "-"], dry.stdout);
    const byHand = await ruleset(ns);
    await ns.exec("nft", ["delete", "table", "inet", "kuma_mesh_transparent_proxy"]);
    const install = await runCli(["install", ...NFT, "--kuma-dp-user", "kuma-dp"], { netns: ns });
    assertEquals(install.code, 0, install.stderr);
    assertEquals(await ruleset(ns), byHand);
  });
});

Deno.test("nftables backend: status reads nft -j and names what differs", async () => {
  await ensureKumaDp();
  await withNetns("nftdrift", async (ns) => {
    const flags = [...NFT, ...KUMA_DP, "--exclude-outbound-ips", "10.0.0.0/8,192.0.2.1"];
    const install = await runCli(["install", ...flags], { netns: ns });
    assertEquals(install.code, 0, install.stderr);
    const ok = await runCli(["status", ...flags], { netns: ns });
    assertEquals([ok.code, ok.stdout], [
      0,
      "IPv4: installed (nftables), matches config\n" +
      // No address besides ::1, but IPv6 is on: both families (issue 22, kumactl K8.12).
      "IPv6: installed (nftables), matches config\n",
    ]);
    // Someone changes our set and empties a chain behind our back.
    await ns.exec("nft", [
      "add element inet kuma_mesh_transparent_proxy outbound_exclude_ips_ipv4 { 198.51.100.0/24 }",
    ]);
    await ns.exec("nft", [
      "flush chain inet kuma_mesh_transparent_proxy KUMA_MESH_INBOUND_REDIRECT",
    ]);
    const drift = await runCli(["status", ...flags], { netns: ns });
    assertEquals(drift.code, 3, drift.stdout + drift.stderr);
    assertStringIncludes(drift.stdout, "unexpected set outbound_exclude_ips_ipv4: 198.51.100.0/24");
    assertStringIncludes(
      drift.stdout,
      "missing    chain KUMA_MESH_INBOUND_REDIRECT: kuma/mesh/transparent/proxy/redirect TCP traffic to envoy (port 15006)",
    );
    const json = await runCli(["status", "--json", ...flags], { netns: ns });
    assertEquals(JSON.parse(json.stdout).families[0].backend, "nftables");
  });
});

Deno.test("nftables backend: install, uninstall and the live table count rules and chains alike", async () => {
  await ensureKumaDp();
  await withNetns("nftcount", async (ns) => {
    await addIPv6(ns);
    // Four IPv4 exclusions fold into one set lookup: one rule in the table.
    const args = [
      ...NFT,
      ...KUMA_DP,
      "--exclude-outbound-ips",
      "10.0.0.0/8,192.168.1.1,10.1.0.0/16",
    ];
    const install = await runCli(["install", ...args], { netns: ns });
    assertEquals(install.code, 0, install.stderr);
    const live = JSON.parse(
      await ns.exec("nft", ["-j", "list", "table", "inet", "kuma_mesh_transparent_proxy"]),
    ).nftables as Record<string, unknown>[];
    const rules = live.filter((o) => "rule" in o).length;
    const chains = live.filter((o) => "chain" in o).length;
    const installed = [...install.stdout.matchAll(/IPv[46] \(nftables\): installed (\d+) rules/g)]
      .map((m) => Number(m[1]));
    assertEquals(installed.length, 2, install.stdout);
    assertEquals(installed[0] + installed[1], rules, install.stdout);
    const uninstall = await runCli(["uninstall"], { netns: ns });
    assertEquals(uninstall.code, 0, uninstall.stderr);
    assertStringIncludes(
      uninstall.stdout,
      `removed the table, ${rules} rules and ${chains} chains`,
    );
  });
});

/**
 * An nft wrapper that runs the real `nft -f` once (not --check) and then
 * dies as `kill` says (`-KILL $$`: SIGKILL to nft; `-INT $PPID; kill -INT $$`:
 * SIGINT to the CLI and to nft, as Ctrl-C sends it to the process group).
 * Later calls pass through: the CLI's own reads and rollback.
 */
function diesAfterCommit(kill: string): string {
  return `MARK="$STATE/died"
if [[ " $* " == *" -f "* && " $* " != *" --check "* && ! -e "$MARK" ]]; then
  touch "$MARK"; "$REAL" "$@"; ${kill}; exit 99
fi
exec "$REAL" "$@"`;
}

const iptablesHasOurs = async (ns: Netns) =>
  (await snapshot(ns, tools("nft", 4)) + await snapshot(ns, tools("nft", 6))).includes("KUMA_MESH");

Deno.test("nftables backend: nft killed after its commit: install reads the table back and finishes the switch", async () => {
  await ensureKumaDp();
  await withNetns("nftkill", async (ns) => {
    await addIPv6(ns);
    const ipt = await runCli(["install", ...KUMA_DP], { netns: ns });
    assertEquals(ipt.code, 0, ipt.stderr);
    assert(await iptablesHasOurs(ns));
    const r = await cliWithNft(ns, diesAfterCommit("kill -KILL $$"), [
      "install",
      ...NFT,
      ...KUMA_DP,
    ]);
    assertEquals(r.code, 0, r.stdout + r.stderr);
    assertStringIncludes(
      r.stderr,
      "nft -f failed (nft was killed by SIGKILL) after the kernel had committed its transaction",
    );
    assert(!r.stderr.includes("nothing was changed"), r.stderr);
    assertStringIncludes(r.stderr, "removed the iptables installation from IPv6 (nft)");
    // One backend only: the new table, no iptables rules.
    assert(!(await iptablesHasOurs(ns)), await state(ns));
    assertStringIncludes(await ruleset(ns), OUR_TABLE);
    const status = await runCli(["status", ...NFT, ...KUMA_DP], { netns: ns });
    assertEquals(status.code, 0, status.stdout + status.stderr);
  });
});

Deno.test("nftables backend: Ctrl-C that kills nft after its commit puts the previous rules back and says so", async () => {
  await ensureKumaDp();
  await withNetns("nftint", async (ns) => {
    await addIPv6(ns);
    const ipt = await runCli(["install", ...KUMA_DP], { netns: ns });
    assertEquals(ipt.code, 0, ipt.stderr);
    const before = await state(ns);
    const r = await cliWithNft(
      ns,
      diesAfterCommit("kill -INT $PPID; kill -INT $$"),
      ["install", ...NFT, ...KUMA_DP],
    );
    assertEquals(r.code, 1, r.stdout + r.stderr);
    assertStringIncludes(r.stderr, "nft was killed by SIGINT");
    assertStringIncludes(
      r.stderr,
      "then interrupted; the nft table was put back as it was before this install (none)",
    );
    assert(!r.stderr.includes("nothing was changed"), r.stderr);
    assertEquals(await state(ns), before, r.stderr);
  });
});

Deno.test("nftables backend: an iptables install whose nft delete dies after its commit reports the table removed", async () => {
  await ensureKumaDp();
  await withNetns("nftkilldel", async (ns) => {
    await addIPv6(ns);
    const nft = await runCli(["install", ...NFT, ...KUMA_DP], { netns: ns });
    assertEquals(nft.code, 0, nft.stderr);
    const r = await cliWithNft(ns, diesAfterCommit("kill -KILL $$"), ["install", ...KUMA_DP]);
    assertEquals(r.code, 0, r.stdout + r.stderr);
    assert(!r.stderr.includes("could not be removed"), r.stderr);
    assertStringIncludes(
      r.stdout,
      "nftables (inet kuma_mesh_transparent_proxy): removed the table",
    );
    assert(!(await ruleset(ns)).includes(OUR_TABLE));
    assert(await iptablesHasOurs(ns));
  });
});

Deno.test("nftables backend: an iptables install that cannot read or remove our table does not end with both redirecting", async () => {
  await ensureKumaDp();
  await withNetns("nftbothread", async (ns) => {
    await addIPv6(ns);
    const nft = await runCli(["install", ...NFT, ...KUMA_DP], { netns: ns });
    assertEquals(nft.code, 0, nft.stderr);
    const before = await state(ns);
    // nft cannot list: the table cannot be read, so the install must not start.
    const unread = await cliWithNft(
      ns,
      failing(`[[ " $* " == *" -j "* ]]`, "Error: cannot list"),
      ["install", ...KUMA_DP],
    );
    assertEquals(unread.code, 1, unread.stdout + unread.stderr);
    assertStringIncludes(unread.stderr, "cannot read our nft table");
    assertStringIncludes(unread.stderr, "Nothing was changed");
    assertEquals(await state(ns), before);
    // nft reads, but its delete fails: the iptables rules are in, and the exit says both redirect.
    const undeleted = await cliWithNft(
      ns,
      failing(`[[ "$input" == *"delete table"* ]]`, "Error: cannot delete"),
      ["install", ...KUMA_DP],
    );
    assertEquals(undeleted.code, 1, undeleted.stdout + undeleted.stderr);
    assertStringIncludes(undeleted.stderr, "so both backends redirect");
    assert((await ruleset(ns)).includes(OUR_TABLE));
    assert(await iptablesHasOurs(ns));
  });
});
