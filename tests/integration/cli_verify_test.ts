/**
 * `kuma-tproxy verify` in the traffic world (../world): rules installed by
 * the real CLI, then verify's real probes, with the stand-in sidecar
 * running, stopped (with and without `--listen`), behind an admin's
 * `policy drop` on an output chain, and without an IPv6 default route.
 * Every verify leaves iptables-save of both backends and `nft list ruleset`
 * exactly as they were. Run on iptables-nft, iptables-legacy and
 * `--backend nftables`.
 *
 * Needs root and `ip netns` (run with --allow-all).
 */
import { assert, assertEquals } from "../assert.ts";
import { KUMA_DP_UID, PORTS, withWorld, type World } from "../world/world.ts";
import { runPrivately } from "../world/private_mounts.ts";
import { type CliResult, KUMA_TPROXY, REPO_ROOT } from "./cli_run.ts";
import { LEGACY_FLAGS, prepare, ruleset, saves } from "./traffic_probes.ts";

const PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/**
 * The CLI in the world's host namespace, in a private mount namespace whose
 * /etc/resolv.conf is `resolvConf` (default: the world's, naming the peer):
 * verify probes the nameservers of /etc/resolv.conf, which must be the
 * test's, never the machine's.
 */
function cliIn(
  w: World,
  args: string[],
  options: { resolvConf?: string; env?: Record<string, string> } = {},
): Promise<CliResult> {
  return runPrivately(
    [KUMA_TPROXY, ...args],
    { files: { "/etc/resolv.conf": options.resolvConf ?? Deno.readTextFileSync(w.resolvConf) } },
    {
      netns: w.host.name,
      cwd: REPO_ROOT,
      env: { PATH, HOME: Deno.env.get("HOME") ?? "/root", ...w.toolEnv(), ...options.env },
    },
  );
}

const FLAGS = [
  ...["--kuma-dp-user", String(KUMA_DP_UID), "--redirect-all-dns-traffic"],
  ...["--exclude-inbound-ports", String(PORTS.hostExcluded)],
  ...["--exclude-outbound-ports", String(PORTS.peerExcluded)],
  // One documentation address (checked) and one real one (said to be unchecked).
  ...["--exclude-outbound-ips", "203.0.113.1,fd77::3"],
];

/** Every rule of every backend, counters left out (probes move iptables-nft's counters). */
async function rules(w: World): Promise<unknown> {
  const nft = (await ruleset(w.host)).replace(/ counter packets \d+ bytes \d+/g, " counter");
  return { saves: await saves(w.host), nft };
}

/** The verdict word and path of each line: `ok outbound IPv4`. */
function verdicts(stdout: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of stdout.trim().split("\n")) {
    const m = /^(ok|FAILED|not checked) (.+?): /.exec(line);
    assert(m, `unexpected line: ${line}`);
    out[m[2]] = m[1];
  }
  return out;
}

/**
 * Every path of FLAGS holds. The IPv4 nameserver (the peer) is proven only to
 * verify's own listener: the peer answers a direct query too. The IPv6 one
 * is never probed (Deno grants no IPv6 range).
 */
function allOk(w: World, own: boolean): Record<string, string> {
  return {
    "outbound IPv4": "ok",
    "kuma-dp direct IPv4": "ok",
    "excluded port 9091 IPv4": "ok",
    "excluded address 203.0.113.1": "ok",
    "DNS IPv4": "ok",
    [`DNS to nameserver ${w.peerAddr4}`]: own ? "ok" : "not checked",
    "outbound IPv6": "ok",
    "kuma-dp direct IPv6": "ok",
    "excluded port 9091 IPv6": "ok",
    "excluded addresses IPv6": "not checked",
    "DNS IPv6": "ok",
    [`DNS to nameserver ${w.peerAddr6}`]: "not checked",
    "inbound": "not checked",
  };
}

for (const mode of ["nft", "legacy", "nftables"] as const) {
  Deno.test(`kuma-tproxy verify proves each path with real packets (${mode})`, async (t) => {
    await withWorld(async (w) => {
      await prepare(w, mode);
      const backend = mode === "nftables"
        ? ["--backend", "nftables"]
        : mode === "legacy"
        ? LEGACY_FLAGS
        : [];
      const cli = (args: string[]) => cliIn(w, [...args, ...FLAGS, ...backend]);
      const installed = await cli(["install"]);
      assertEquals(installed.code, 0, installed.stderr);
      let before = await rules(w);
      const verify = async (extra: string[] = []) => {
        const r = await cli(["verify", ...extra]);
        assertEquals(await rules(w), before, "verify changed a rule");
        return r;
      };

      await t.step("the stand-in sidecar running: every checked path holds", async () => {
        const r = await verify();
        assertEquals(r.code, 0, r.stdout + r.stderr);
        assertEquals(verdicts(r.stdout), allOk(w, false), r.stdout);
        assert(r.stdout.includes("original destination 192.0.2.1:80 kept"), r.stdout);
        assert(r.stderr.includes("# 9 of 9 checked paths hold, 4 not checked"), r.stderr);
        assert(
          r.stdout.includes(
            `not checked DNS to nameserver ${w.peerAddr4}: answered, but ${w.peerAddr4}:53 ` +
              "answers a direct query too",
          ),
          r.stdout,
        );
        const json = await verify(["--json"]);
        assertEquals(json.code, 0, json.stderr);
        const report = JSON.parse(json.stdout);
        assertEquals([report.state, report.checked, report.failed], ["ok", 9, 0]);
        const outbound = report.paths.find((p: { path: string }) => p.path === "outbound IPv4");
        // The stand-in reads SO_ORIGINAL_DST: the original destination, end to end.
        assertEquals(
          [outbound.verdict, outbound.listener, outbound.reply],
          ["ok", "theirs", "sidecar:15001 orig=192.0.2.1:80"],
        );
      });

      await t.step(
        "the sidecar down: fails naming the path; --listen proves the rules",
        async () => {
          await w.stopSidecar();
          try {
            const r = await verify();
            assertEquals(r.code, 1, r.stdout + r.stderr);
            assert(
              /^FAILED outbound IPv4: nothing listens on port 15001/m.test(r.stdout),
              r.stdout,
            );
            assert(/^FAILED DNS IPv6: nothing listens on port 15053/m.test(r.stdout), r.stdout);
            assertEquals(verdicts(r.stdout)["kuma-dp direct IPv4"], "not checked");
            const own = await verify(["--listen"]);
            assertEquals(own.code, 0, own.stdout + own.stderr);
            assertEquals(verdicts(own.stdout), allOk(w, true), own.stdout);
            assert(own.stderr.includes("# 10 of 10 checked paths hold, 3 not checked"));
            assert(own.stdout.includes("verify's own listener on port 15001 received it"));
          } finally {
            await w.startSidecar();
          }
        },
      );

      await t.step("an admin's policy drop on an output chain: fails naming the path", async () => {
        const drop = mode === "nftables"
          ? ["nft", ["add chain inet admin output { policy drop ; }"]] as const
          : [`iptables-${mode}`, ["-P", "OUTPUT", "DROP"]] as const;
        const accept = mode === "nftables"
          ? ["nft", ["add chain inet admin output { policy accept ; }"]] as const
          : [`iptables-${mode}`, ["-P", "OUTPUT", "ACCEPT"]] as const;
        await w.host.exec(drop[0], [...drop[1]]);
        try {
          const dropped = await rules(w);
          const r = await cli(["verify"]);
          assertEquals(await rules(w), dropped, "verify changed a rule");
          assertEquals(r.code, 1, r.stdout + r.stderr);
          assert(/^FAILED outbound IPv4: not redirected to port 15001: timeout/m.test(r.stdout));
          assert(/^FAILED DNS IPv4: not redirected to port 15053/m.test(r.stdout), r.stdout);
        } finally {
          await w.host.exec(accept[0], [...accept[1]]);
        }
        assertEquals(await rules(w), before);
      });

      await t.step("a probe that cannot run fails: it never passes as a direct path", async () => {
        const dir = await Deno.makeTempDir({ prefix: "ktp-verify-path-" });
        try {
          // setpriv found first on PATH, failing as a missing util-linux would.
          await Deno.writeTextFile(`${dir}/setpriv`, "#!/bin/sh\necho no setpriv >&2\nexit 127\n");
          await Deno.chmod(`${dir}/setpriv`, 0o755);
          const r = await cliIn(w, ["verify", ...FLAGS, ...backend], {
            env: { PATH: `${dir}:${PATH}` },
          });
          assertEquals(r.code, 1, r.stdout + r.stderr);
          assert(/^FAILED kuma-dp direct IPv4: could not probe: .*no setpriv/m.test(r.stdout));
          assert(!/^ok /m.test(r.stdout), r.stdout);
          assertEquals(await rules(w), before);
        } finally {
          await Deno.remove(dir, { recursive: true });
        }
      });

      await t.step("install --verify runs verify after the apply", async () => {
        const r = await cli(["install", "--verify"]);
        assertEquals(r.code, 0, r.stdout + r.stderr);
        assert(/^ok outbound IPv4: redirected to port 15001/m.test(r.stdout), r.stdout);
        // (A re-install re-creates iptables-nft's chains, which reorders `nft list ruleset`.)
        const saved = await saves(w.host);
        await w.stopSidecar();
        try {
          const down = await cli(["install", "--verify"]);
          assertEquals(down.code, 1, down.stdout + down.stderr);
          assert(/^FAILED outbound IPv4: nothing listens/m.test(down.stdout), down.stdout);
          // The rules stay: --verify reports, it does not roll back (see README).
          assertEquals(await saves(w.host), saved);
        } finally {
          await w.startSidecar();
        }
      });

      await t.step("no IPv6 default route: says which paths it did not check", async () => {
        before = await rules(w);
        await w.host.exec("ip", ["-6", "route", "del", "default"]);
        try {
          const r = await verify();
          assertEquals(r.code, 0, r.stdout + r.stderr);
          const v = verdicts(r.stdout);
          assertEquals(
            [
              v["outbound IPv6"],
              v["kuma-dp direct IPv6"],
              v["excluded port 9091 IPv6"],
              v["DNS IPv6"],
              v["outbound IPv4"],
            ],
            ["not checked", "not checked", "not checked", "not checked", "ok"],
          );
          assert(
            /^not checked outbound IPv6: no route to \[2001:db8::1\]:80 .*nothing sent/m
              .test(r.stdout),
            r.stdout,
          );
        } finally {
          await w.host.exec("ip", ["-6", "route", "add", "default", "via", w.peerAddr6]);
        }
      });

      await t.step(
        "--redirect-dns: a query to each nameserver of /etc/resolv.conf lands on the DNS port",
        async () => {
          // The rules redirect the nameservers of this file; /etc/resolv.conf
          // is the same, except where a case says otherwise.
          const listed = `nameserver ${w.peerAddr4}\nnameserver 127.0.0.53\n` +
            `nameserver ${w.peerAddr6}\n`;
          const file = `${w.dir}/resolv-dns.conf`;
          await Deno.writeTextFile(file, listed);
          const dnsFlags = ["--kuma-dp-user", String(KUMA_DP_UID), "--redirect-dns", ...backend];
          const env = { KUMA_TRANSPARENT_PROXY_REDIRECT_DNS_RESOLV_CONFIG_PATH: file };
          const run = (args: string[], resolvConf = listed) =>
            cliIn(w, [...args, ...dnsFlags], { resolvConf, env });
          const installed = await run(["install"]);
          assertEquals(installed.code, 0, installed.stderr);
          before = await rules(w);
          const dnsPaths = (stdout: string) => {
            const v = verdicts(stdout);
            return Object.fromEntries(
              Object.keys(v).filter((p) => p.startsWith("DNS")).map((p) => [
                p,
                v[p],
              ]),
            );
          };
          await w.stopSidecar();
          try {
            const own = await run(["verify", "--listen"]);
            assertEquals(await rules(w), before, "verify changed a rule");
            assertEquals(own.code, 0, own.stdout + own.stderr);
            assertEquals(dnsPaths(own.stdout), {
              [`DNS to nameserver ${w.peerAddr4}`]: "ok",
              "DNS to nameserver 127.0.0.53": "ok",
              "DNS from the local resolver 127.0.0.53": "not checked",
              [`DNS to nameserver ${w.peerAddr6}`]: "not checked",
            }, own.stdout);
            assert(
              own.stdout.includes(
                "ok DNS to nameserver 127.0.0.53: redirected to port 15053: " +
                  "verify's own listener on port 15053 received it",
              ),
              own.stdout,
            );
            // A nameserver that processes use and the rules do not redirect.
            const other = await run(["verify", "--listen"], `nameserver ${w.hostAddr4}\n`);
            assertEquals(await rules(w), before, "verify changed a rule");
            assertEquals(other.code, 1, other.stdout + other.stderr);
            assert(
              other.stdout.includes(
                `FAILED DNS to nameserver ${w.hostAddr4}: not redirected to port 15053`,
              ),
              other.stdout,
            );
          } finally {
            await w.startSidecar();
          }
          // The stand-in answers, but so would the peer: not proven, and said so.
          const theirs = await run(["verify"]);
          assertEquals(theirs.code, 0, theirs.stdout + theirs.stderr);
          assertEquals(
            dnsPaths(theirs.stdout)[`DNS to nameserver ${w.peerAddr4}`],
            "not checked",
            theirs.stdout,
          );
        },
      );
    });
  });
}
