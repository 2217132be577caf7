/**
 * Bad input through the real CLI (scripts/kuma-tproxy, the binary's
 * permissions) in a namespace that holds someone else's rules in both
 * backends and both families. Every refusal must exit 2 (usage or config)
 * or 1 (runtime), name the setting and its source on stderr, print nothing
 * on stdout, show no stack trace, and leave every iptables-save unchanged.
 *
 * Also the friendly paths that touch the host: a non-root dry run, kumactl's
 * no-op flags and its `transparent-proxy` word.
 *
 * Needs root and `ip netns` (run with --allow-all).
 */
import { assert, assertEquals, assertStringIncludes } from "../assert.ts";
import { type Netns, withNetns } from "../world/netns.ts";
import { addIPv6, ensureKumaDp, runCli } from "./cli_run.ts";
import { foreignRules, load, MODES, snapshot, tools } from "./iptables_fixtures.ts";

/** One bad command line and what the CLI must say about it. */
interface BadInput {
  name: string;
  args: string[];
  env?: Record<string, string>;
  /** Files written to the test's temp dir; `$DIR` in args and env names that dir. */
  files?: Record<string, string | Uint8Array>;
  stdin?: string;
  uid?: number;
  code: 1 | 2;
  /** Fragments stderr must contain: the setting, the source, the value. */
  says: string[];
  /** Fragments stderr must not contain (a JavaScript or Deno message). */
  never?: string[];
  /** The error is one line: a value with a line break or a NUL is escaped. */
  oneLine?: true;
}

const USER = ["--kuma-dp-user", "5678"];
const NOBODY = 65534;
const MiB = 1024 * 1024;
/** A valid config padded with comments past the 1 MiB input limit. */
const OVERSIZED = "verbose: true\n" + "# padding\n".repeat(5 * MiB / 10);
/** Just below the limit, one list of 200,000 ports: refused by the list limit, not a crash. */
const LONG_LIST = `redirect:\n  inbound:\n    excludePorts: [${
  Array(200_000).fill("22").join(",")
}]\n`;
const E = "KUMA_TRANSPARENT_PROXY_";

const BAD_INPUTS: BadInput[] = [
  {
    name: "a port flag out of range",
    args: ["install", ...USER, "--redirect-inbound-port", "70000"],
    code: 2,
    says: ["redirect.inbound.port", "flag --redirect-inbound-port", "70000", "1-65535"],
  },
  {
    name: "a bad value in an env var",
    args: ["install", ...USER],
    env: { KUMA_TRANSPARENT_PROXY_REDIRECT_DNS_PORT: "abc" },
    code: 2,
    says: ["redirect.dns.port", "env KUMA_TRANSPARENT_PROXY_REDIRECT_DNS_PORT", "abc"],
  },
  {
    name: "a bad value in a YAML file, with its line",
    args: ["install", ...USER, "--config", "$DIR/bad.yaml"],
    files: { "bad.yaml": "redirect:\n  dns:\n    port: x\n" },
    code: 2,
    says: ["redirect.dns.port", "$DIR/bad.yaml:3:", "not a port"],
  },
  {
    name: "a YAML syntax error, with its line",
    args: ["install", ...USER, "--config", "$DIR/broken.yaml"],
    files: { "broken.yaml": "redirect:\n  dns: [\n" },
    code: 2,
    says: ["$DIR/broken.yaml:", "not valid YAML"],
  },
  {
    name: "an unknown key in a file, with a suggestion",
    args: ["install", ...USER, "--config", "$DIR/typo.yaml"],
    files: { "typo.yaml": "redirect:\n  dns:\n    prot: 5353\n" },
    code: 2,
    says: ["redirect.dns.prot", "$DIR/typo.yaml:3:", "redirect.dns.port"],
  },
  {
    name: "a bad value on stdin",
    args: ["install", ...USER, "--config", "-"],
    stdin: "ipFamilyMode: ipv5\n",
    code: 2,
    says: ["ipFamilyMode", "stdin:1:", "ipv5"],
  },
  {
    name: "cniMode from an env var (unsupported)",
    args: ["install", ...USER],
    env: { KUMA_TRANSPARENT_PROXY_CNI_MODE: "true" },
    code: 2,
    says: ["cniMode", "env KUMA_TRANSPARENT_PROXY_CNI_MODE", "not supported"],
  },
  {
    name: "eBPF from a flag (unsupported)",
    args: ["install", ...USER, "--ebpf-enabled"],
    code: 2,
    says: ["ebpf.enabled", "flag --ebpf-enabled", "not supported"],
  },
  {
    name: "an unknown flag",
    args: ["install", ...USER, "--cni-mode"],
    code: 2,
    says: ["--cni-mode"],
  },
  {
    name: "an unknown target word",
    args: ["install", "sidecar", ...USER],
    code: 2,
    says: ["sidecar", "transparent-proxy"],
  },
  {
    name: "a --config file that cannot be read",
    args: ["install", ...USER, "--config", "$DIR/missing.yaml"],
    code: 2,
    says: ["$DIR/missing.yaml", "cannot be read"],
  },
  {
    name: "a kuma-dp user that does not exist",
    args: ["install", "--kuma-dp-user", "ktp-no-such-user"],
    code: 1,
    says: ["kumaDPUser", "ktp-no-such-user", "--kuma-dp-user"],
  },
  {
    name: "install as a non-root user",
    args: ["install", ...USER],
    uid: NOBODY,
    code: 1,
    says: ["root", "--dry-run"],
  },
  {
    name: "uninstall as a non-root user",
    args: ["uninstall"],
    uid: NOBODY,
    code: 1,
    says: ["root"],
  },
  {
    name: "a bad flag on uninstall",
    args: ["uninstall", "--wait", "soon"],
    code: 2,
    says: ["wait", "flag --wait", "soon"],
  },
  // Issue 13 item 1: only regular files, never more than the limit.
  {
    name: "--config /dev/zero (a device, never read)",
    args: ["install", ...USER, "--config", "/dev/zero"],
    code: 2,
    says: ["/dev/zero", "--config", "not a regular file but a character device", "1 MiB"],
  },
  {
    name: "--config /dev/null (not a regular file either)",
    args: ["install", ...USER, "--config", "/dev/null"],
    code: 2,
    says: ["/dev/null", "--config", "not a regular file"],
  },
  {
    name: "--config naming a directory",
    args: ["install", ...USER, "--config", "$DIR"],
    code: 2,
    says: ["$DIR", "--config", "not a regular file but a directory"],
  },
  {
    name: "a 5 MiB config file",
    args: ["install", ...USER, "--config", "$DIR/huge.yaml"],
    files: { "huge.yaml": OVERSIZED },
    code: 2,
    says: ["$DIR/huge.yaml", "--config", "more than the limit of 1 MiB"],
  },
  {
    name: "5 MiB on stdin",
    args: ["install", ...USER, "--config", "-"],
    stdin: OVERSIZED,
    code: 2,
    says: ["stdin", "--config", "more than the limit of 1 MiB"],
  },
  {
    name: "resolv.conf on a device",
    args: ["install", ...USER, "--redirect-dns", "--redirect-dns-resolv-config-path", "/dev/zero"],
    code: 2,
    says: [
      "redirect.dns.resolvConfigPath",
      "/dev/zero from flag --redirect-dns-resolv-config-path",
      "not a regular file",
    ],
  },
  {
    name: "a 5 MiB resolv.conf",
    args: ["install", ...USER, "--redirect-dns"],
    env: { [`${E}REDIRECT_DNS_RESOLV_CONFIG_PATH`]: "$DIR/resolv.conf" },
    files: { "resolv.conf": "nameserver 10.0.0.2\n" + "# padding\n".repeat(5 * MiB / 10) },
    code: 2,
    says: [
      "redirect.dns.resolvConfigPath",
      `env ${E}REDIRECT_DNS_RESOLV_CONFIG_PATH`,
      "more than the limit of 1 MiB",
    ],
  },
  // Issue 14 item 6: a resolv.conf that does not exist is input, not a runtime failure.
  {
    name: "a resolv.conf that does not exist",
    args: ["install", ...USER, "--redirect-dns"],
    env: { [`${E}REDIRECT_DNS_RESOLV_CONFIG_PATH`]: "$DIR/no-resolv.conf" },
    code: 2,
    says: [
      "redirect.dns.resolvConfigPath: $DIR/no-resolv.conf",
      `env ${E}REDIRECT_DNS_RESOLV_CONFIG_PATH`,
      "does not exist",
    ],
  },
  // Issue 13 item 2: a long list just below the size limit is a config error.
  {
    name: "a list of 200,000 ports just below the size limit",
    args: ["install", ...USER, "--config", "$DIR/long.yaml"],
    files: { "long.yaml": LONG_LIST },
    code: 2,
    says: ["redirect.inbound.excludePorts", "$DIR/long.yaml:3:", "limit of 4096"],
  },
  {
    name: "a flag list of 5,000 ports",
    args: ["install", ...USER, "--exclude-outbound-ports", Array(5000).fill("443").join(",")],
    code: 2,
    says: ["redirect.outbound.excludePorts", "flag --exclude-outbound-ports", "limit of 4096"],
  },
  // Issue 13 item 13: invalid UTF-8 names its file and line.
  {
    name: "invalid UTF-8 in a config file",
    args: ["install", ...USER, "--config", "$DIR/latin1.yaml"],
    // "# café" in Latin-1: 0xe9 is no UTF-8 sequence.
    files: {
      "latin1.yaml": new Uint8Array([...new TextEncoder().encode("verbose: true\n# caf"), 0xe9]),
    },
    code: 2,
    says: ["$DIR/latin1.yaml:2:6", "not valid UTF-8"],
  },
  // Issue 13 item 14: one rule for lists and scalars.
  {
    name: "an empty UID entry on a flag",
    args: ["install", ...USER, "--exclude-outbound-ports-for-uids", "1000;;1001"],
    code: 2,
    says: ["redirect.outbound.excludePortsForUIDs", "flag --exclude-outbound-ports-for-uids"],
  },
  {
    name: "a quoted port in YAML (kumactl rejects it too)",
    args: ["install", ...USER, "--config", "$DIR/quoted.yaml"],
    files: { "quoted.yaml": 'redirect:\n  inbound:\n    port: "15006"\n' },
    code: 2,
    says: ["redirect.inbound.port", "$DIR/quoted.yaml:3:11", "not a number"],
  },
  {
    name: "a quoted boolean in YAML",
    args: ["install", ...USER, "--config", "$DIR/quoted-bool.yaml"],
    files: { "quoted-bool.yaml": 'verbose: "true"\n' },
    code: 2,
    says: ["verbose", "$DIR/quoted-bool.yaml:1:10", "not a boolean"],
  },
  // Issue 13 item 11, issue 14 item 6: vnet interface names follow Linux's rules.
  {
    name: "a vnet interface with quotes",
    args: ["install", ...USER, "--vnet", `do"ck'er:172.17.0.0/16`],
    code: 2,
    says: ["redirect.vnet.networks", "flag --vnet", "interface name with '\"'"],
  },
  {
    name: "a vnet interface with a backslash, from an env var",
    args: ["install", ...USER],
    env: { [`${E}REDIRECT_VNET_NETWORKS`]: "dock\\er:172.17.0.0/16" },
    code: 2,
    says: ["redirect.vnet.networks", `env ${E}REDIRECT_VNET_NETWORKS`, "interface name with '\\'"],
  },
  {
    name: "a vnet interface name of 16 bytes",
    args: ["install", ...USER, "--vnet", "ééééééééx:10.0.0.0/8"],
    code: 2,
    says: ["redirect.vnet.networks", "flag --vnet", "17 bytes"],
  },
  // Issue 13 item 9: inline YAML is detected, and not split at its commas.
  {
    name: "inline YAML in --config",
    args: ["install", ...USER, "--config", "kumaDPUser: dataplane\\nverbose: true"],
    code: 2,
    says: ["--config", "inline YAML", "--config -", "<<'EOF'"],
  },
  {
    name: "an inline YAML flow mapping in --config",
    args: ["install", ...USER, "--config", "{ kumaDPUser: dataplane, verbose: true }"],
    code: 2,
    says: ["{ kumaDPUser: dataplane, verbose: true }", "inline YAML", "--config -"],
  },
  // Issue 13 item 10: commander's errors in the one format.
  {
    name: "a misspelt flag, with a suggestion",
    args: ["install", ...USER, "--dry-runn"],
    code: 2,
    says: ["kuma-tproxy: unknown option '--dry-runn' (did you mean --dry-run?)", "--help"],
  },
  {
    name: "a flag without its value",
    args: ["install", ...USER, "--redirect-dns-port"],
    code: 2,
    says: ["kuma-tproxy: option '--redirect-dns-port <port>' argument missing"],
  },
  {
    name: "an unknown command",
    args: ["instal", ...USER],
    code: 2,
    says: ["kuma-tproxy: unknown command 'instal'"],
  },
  // issue 21 item 11: messages.
  {
    name: "a line break in the kuma-dp user, escaped",
    args: ["install", "--kuma-dp-user", "ktp\nno-such-user"],
    code: 1,
    says: ["kumaDPUser 'ktp\\nno-such-user' is not a UID"],
    oneLine: true,
  },
  {
    name: "a NUL in the kuma-dp user from a file, escaped",
    args: ["install", "--config", "$DIR/nul.yaml"],
    files: { "nul.yaml": 'kumaDPUser: "ktp\\0x"\n' },
    code: 1,
    says: ["kumaDPUser 'ktp\\u0000x' is not a UID"],
    never: ["\0"],
    oneLine: true,
  },
  {
    name: "a process's memory as --config",
    args: ["install", ...USER, "--config", "/proc/self/mem"],
    code: 2,
    says: ["/proc/self/mem", "special file of the kernel, not a config file", "- for stdin"],
    never: ["--allow-all"],
  },
  {
    name: "/dev/stdin as --config",
    args: ["install", ...USER, "--config", "/dev/stdin"],
    stdin: "verbose: true\n",
    code: 2,
    says: ["/dev/stdin", "is stdin by another name", "- for stdin"],
    never: ["--allow-all"],
  },
  {
    name: "a file of two YAML documents",
    args: ["install", ...USER, "--config", "$DIR/two.yaml"],
    files: { "two.yaml": "verbose: true\n---\nverbose: false\n" },
    code: 2,
    says: ["$DIR/two.yaml:2:1", "second YAML document"],
    never: ["parseAllDocuments"],
  },
  {
    name: "binary data (!!binary) in a file",
    args: ["install", "--config", "$DIR/binary.yaml"],
    files: { "binary.yaml": "kumaDPUser: !!binary a3VtYS1kcA==\n" },
    code: 2,
    says: ["$DIR/binary.yaml:1:", "!!binary"],
    never: ["Buffer"],
  },
  {
    name: "lists nested thousands deep",
    args: ["install", ...USER, "--config", "$DIR/deep.yaml"],
    files: {
      "deep.yaml": `redirect:\n  inbound:\n    excludePorts: ${"[".repeat(9000)}${
        "]".repeat(9000)
      }\n`,
    },
    code: 2,
    says: ["$DIR/deep.yaml:3:", "nests lists and mappings more than 64 deep"],
    never: ["call stack"],
  },
];

/** Both families of both backends, normalised: what must not change. */
async function allSaves(ns: Netns): Promise<Record<string, string>> {
  const saves: Record<string, string> = {};
  for (const mode of MODES) {
    for (const family of [4, 6] as const) {
      saves[`${mode}/IPv${family}`] = await snapshot(ns, tools(mode, family));
    }
  }
  return saves;
}

/** A namespace that looks lived-in: foreign rules everywhere, and IPv6 on. */
async function withForeignNetns(fn: (ns: Netns) => Promise<void>): Promise<void> {
  await ensureKumaDp();
  await withNetns("cli", async (ns) => {
    await addIPv6(ns);
    for (const mode of MODES) {
      for (const family of [4, 6] as const) {
        await load(ns, tools(mode, family), foreignRules(family));
      }
    }
    await fn(ns);
  });
}

function assertNoStack(stderr: string): void {
  assert(!/^\s+at /m.test(stderr), `stack trace on stderr:\n${stderr}`);
  assert(!/Uncaught|Stack backtrace/.test(stderr), `crash on stderr:\n${stderr}`);
}

/** Every error reads `kuma-tproxy: ...` (after any `# ` notes), never commander's `error: ...`. */
function assertOneFormat(stderr: string): void {
  const first = stderr.split("\n").find((l) => !l.startsWith("# "));
  assert(first?.startsWith("kuma-tproxy: "), `error not in the kuma-tproxy: format:\n${stderr}`);
  assert(!/^error:/m.test(stderr), `commander's own format on stderr:\n${stderr}`);
}

Deno.test("kuma-tproxy refuses bad input with a clear message and changes nothing", async (t) => {
  await withForeignNetns(async (ns) => {
    const before = await allSaves(ns);
    // Guards the comparison itself: an empty save would hide a flush.
    for (const save of Object.values(before)) assertStringIncludes(save, "FOREIGN_NAT");
    const dir = await Deno.makeTempDir({ prefix: "ktp-cli-errors-" });
    try {
      for (const bad of BAD_INPUTS) {
        await t.step(`${bad.name} exits ${bad.code}`, async () => {
          const sub = (s: string) => s.replaceAll("$DIR", dir);
          for (const [name, content] of Object.entries(bad.files ?? {})) {
            if (typeof content === "string") await Deno.writeTextFile(`${dir}/${name}`, content);
            else await Deno.writeFile(`${dir}/${name}`, content);
          }
          const env = bad.env &&
            Object.fromEntries(Object.entries(bad.env).map(([k, v]) => [k, sub(v)]));
          const r = await runCli(bad.args.map(sub), {
            netns: ns,
            env,
            stdin: bad.stdin,
            uid: bad.uid,
          });
          assertEquals(r.code, bad.code, `exit code; stderr:\n${r.stderr}`);
          assertEquals(r.stdout, "", "nothing on stdout");
          for (const fragment of bad.says) assertStringIncludes(r.stderr, sub(fragment));
          for (const fragment of bad.never ?? []) {
            assert(!r.stderr.includes(fragment), `${JSON.stringify(fragment)} in:\n${r.stderr}`);
          }
          if (bad.oneLine) {
            assertEquals(r.stderr.split("\n").filter((l) => l && !l.startsWith("# ")).length, 1);
          }
          assertNoStack(r.stderr);
          assertOneFormat(r.stderr);
          assertEquals(await allSaves(ns), before, "iptables state after the refusal");
        });
      }
      await t.step("dry-run as a non-root user works and warns", async () => {
        const r = await runCli(["install", "--dry-run", ...USER], { netns: ns, uid: NOBODY });
        assertEquals(r.code, 0, r.stderr);
        assertStringIncludes(r.stdout, "### IPv4 ###");
        assertStringIncludes(r.stdout, "-j REDIRECT --to-ports 15006");
        assertStringIncludes(r.stderr, "[WARNING]");
        assertStringIncludes(r.stderr, "non-root");
        assertEquals(await allSaves(ns), before);
      });
      await t.step("kumactl's no-op flags are accepted and say so (issue 13 item 8)", async () => {
        const r = await runCli([
          "install",
          "--dry-run",
          ...USER,
          "--experimental-transparent-proxy-engine",
          "--redirect-dns-upstream-target-chain",
          "DOCKER_OUTPUT",
        ], { netns: ns });
        assertEquals(r.code, 0, r.stderr);
        assertStringIncludes(r.stdout, "### IPv4 ###");
        assertStringIncludes(
          r.stderr,
          "# [WARNING] --experimental-transparent-proxy-engine is accepted for compatibility " +
            "and has no effect",
        );
        assertStringIncludes(
          r.stderr,
          "# [WARNING] --redirect-dns-upstream-target-chain is accepted for compatibility " +
            "and has no effect: Docker's DOCKER_OUTPUT chain is detected",
        );
        assertEquals(await allSaves(ns), before);
      });
      await t.step("install transparent-proxy --dry-run prints both families", async () => {
        const r = await runCli(["install", "transparent-proxy", "--dry-run", ...USER], {
          netns: ns,
        });
        assertEquals(r.code, 0, r.stderr);
        assertStringIncludes(r.stdout, "### IPv4 ###");
        assertStringIncludes(r.stdout, "### IPv6 ###");
        assertEquals(await allSaves(ns), before);
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
});

// --help, --version and config --explain need no kernel: tests/unit/cli/cli_test.ts runs them
// through cli() in memory.

Deno.test("kuma-tproxy config writes parsed values back in one form that --config reads to the same config", async () => {
  // Issue 12 "parse once": Config holds parsed values; `config` formats them back.
  const flags = [
    "--exclude-outbound-ports-for-uids",
    "*:*:1000;udp::53;tcp,udp:80,8000-8080:7",
    "--exclude-outbound-ips",
    " 10.0.0.1,fd00::/8",
    "--vnet",
    " docker0:172.17.0.0/16",
    "--sleep-between-retries",
    "1500ms",
  ];
  const first = await runCli(["config", ...flags]);
  assertEquals(first.code, 0, first.stderr);
  for (
    const line of [
      '- "1000"',
      "- udp:*:53",
      "- 80,8000-8080:7",
      "- 10.0.0.1",
      "- docker0:172.17.0.0/16",
      "sleepBetweenRetries: 1.5s",
    ]
  ) {
    assert(first.stdout.includes(`${line}\n`), `${line} in\n${first.stdout}`);
  }
  const again = await runCli(["config", "--config", "-"], { stdin: first.stdout });
  assertEquals(again.code, 0, again.stderr);
  assertEquals(again.stdout, first.stdout);
});
