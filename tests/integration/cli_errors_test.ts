/**
 * Bad input through the real CLI (scripts/kuma-tproxy, the binary's
 * permissions) in a namespace that holds someone else's rules in both
 * backends and both families. Every refusal must exit 2 (usage or config)
 * or 1 (runtime), name the setting and its source on stderr, print nothing
 * on stdout, show no stack trace, and leave every iptables-save unchanged.
 *
 * Also the friendly paths: --help with examples, --version, the kumactl
 * `transparent-proxy` word, and `config --explain`.
 *
 * Needs root and `ip netns` (run with --allow-all).
 */
import { VERSION } from "../../src/version.ts";
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
  files?: Record<string, string>;
  stdin?: string;
  uid?: number;
  code: 1 | 2;
  /** Fragments stderr must contain: the setting, the source, the value. */
  says: string[];
}

const USER = ["--kuma-dp-user", "5678"];
const NOBODY = 65534;

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
          for (const [name, text] of Object.entries(bad.files ?? {})) {
            await Deno.writeTextFile(`${dir}/${name}`, text);
          }
          const r = await runCli(bad.args.map(sub), {
            netns: ns,
            env: bad.env,
            stdin: bad.stdin,
            uid: bad.uid,
          });
          assertEquals(r.code, bad.code, `exit code; stderr:\n${r.stderr}`);
          assertEquals(r.stdout, "", "nothing on stdout");
          for (const fragment of bad.says) assertStringIncludes(r.stderr, sub(fragment));
          assertNoStack(r.stderr);
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

Deno.test("kuma-tproxy --help of every command shows examples", async () => {
  await withNetns("help", async (ns) => {
    for (const command of ["install", "uninstall", "status", "config"]) {
      const r = await runCli([command, "--help"], { netns: ns });
      assertEquals(r.code, 0, `${command} --help: ${r.stderr}`);
      assertStringIncludes(r.stdout, `Usage: kuma-tproxy ${command}`);
      assertStringIncludes(r.stdout, "Examples:");
      assertStringIncludes(r.stdout, `kuma-tproxy ${command} `);
      assertEquals(r.stderr, "");
    }
  });
});

Deno.test("kuma-tproxy --version prints the version only", async () => {
  const r = await runCli(["--version"]);
  assertEquals({ code: r.code, stdout: r.stdout, stderr: r.stderr }, {
    code: 0,
    stdout: `${VERSION}\n`,
    stderr: "",
  });
});

Deno.test("kuma-tproxy config --explain names the source of every value", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ktp-cli-explain-" });
  try {
    await Deno.writeTextFile(`${dir}/base.yaml`, "redirect:\n  dns:\n    port: 7777\n");
    const r = await runCli(
      ["config", "--explain", "--config", `${dir}/base.yaml`, "--config", "-", "--redirect-dns"],
      {
        stdin: "redirect:\n  inbound:\n    port: 25006\n",
        env: { KUMA_TRANSPARENT_PROXY_REDIRECT_OUTBOUND_PORT: "25001" },
      },
    );
    assertEquals(r.code, 0, r.stderr);
    const line = (path: string) => r.stdout.split("\n").find((l) => l.startsWith(`${path}:`));
    assertEquals(
      line("redirect.dns.port"),
      `redirect.dns.port: 7777  (file:${dir}/base.yaml:3:11)`,
    );
    assertEquals(line("redirect.inbound.port"), "redirect.inbound.port: 25006  (stdin:3:11)");
    assertEquals(
      line("redirect.outbound.port"),
      "redirect.outbound.port: 25001  (env:KUMA_TRANSPARENT_PROXY_REDIRECT_OUTBOUND_PORT)",
    );
    assertEquals(line("redirect.dns.enabled"), "redirect.dns.enabled: true  (flag:--redirect-dns)");
    assertEquals(line("ipFamilyMode"), "ipFamilyMode: dualstack  (default)");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
