import { assertEquals, assertMatch, assertRejects } from "../../assert.ts";
import { ExecutablesError } from "../../../src/iptables/errors.ts";
import {
  candidates,
  chooseMode,
  detectAllExecutables,
  detectExecutables,
  type ExecutableSettings,
  modeFromFileName,
  modeFromVersion,
  uninspectableBackends,
} from "../../../src/iptables/executables.ts";
import { fail, FakeRunner, ok } from "../os/fake_runner.ts";

const EMPTY = "*nat\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n";
const RULES = "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j ACCEPT\nCOMMIT\n";
const DOCKER =
  "*nat\n:OUTPUT ACCEPT [0:0]\n:DOCKER_OUTPUT - [0:0]\n-A OUTPUT -j DOCKER_OUTPUT\nCOMMIT\n";

/**
 * A fake host: `files` maps an executable path to its `--version` line;
 * `dumps` maps a save path to its plain output. Everything lives in /usr/sbin,
 * and only that directory is searched, so PATH lookups by bare name fail.
 */
function host(files: Record<string, string>, dumps: Record<string, string> = {}): FakeRunner {
  return new FakeRunner(({ cmd, args }) => {
    if (!(cmd in files)) return undefined;
    if (args[0] === "--version") return ok(files[cmd] + "\n");
    if (args.length === 0) return ok(dumps[cmd] ?? "");
    return fail("unexpected call");
  });
}

function backend(mode: "nft" | "legacy", family: 4 | 6 = 4): Record<string, string> {
  const base = family === 4 ? "iptables" : "ip6tables";
  const tag = mode === "nft" ? "nf_tables" : "legacy";
  return Object.fromEntries(
    ["", "-save", "-restore"].map((
      t,
    ) => [`/usr/sbin/${base}-${mode}${t}`, `${base}-${mode}${t} v1.8.9 (${tag})`]),
  );
}

const dirs = { pathDirs: ["/usr/sbin"] };
// Only the two settings detection reads: a whole Config is not needed.
const ipv4 = (): ExecutableSettings => ({ ipFamilyMode: "ipv4", iptablesExecutables: {} });
const dualstack = (): ExecutableSettings => ({
  ipFamilyMode: "dualstack",
  iptablesExecutables: {},
});

Deno.test("modeFromVersion() tells nft from legacy", () => {
  assertEquals(modeFromVersion("iptables v1.8.9 (nf_tables)"), "nft");
  assertEquals(modeFromVersion("ip6tables-legacy-restore v1.8.9 (legacy)"), "legacy");
  assertEquals(modeFromVersion("iptables v1.4.21"), "legacy");
  assertEquals(modeFromVersion("iptables v1.4.7: unknown option `--version'"), "legacy");
  assertEquals(modeFromVersion("iptables: unrecognized option '--version'"), "legacy");
  assertEquals(modeFromVersion("bash: iptables: command not found"), undefined);
  assertEquals(modeFromVersion("iptables v1.8.9 (something)"), undefined);
});

Deno.test("candidates() tries the mode name then the plain name, PATH first", () => {
  assertEquals(candidates(6, "nft", "-save", ["/usr/sbin", "/bin/"]), [
    "ip6tables-nft-save",
    "/usr/sbin/ip6tables-nft-save",
    "/bin/ip6tables-nft-save",
    "ip6tables-save",
    "/usr/sbin/ip6tables-save",
    "/bin/ip6tables-save",
  ]);
});

Deno.test("chooseMode() follows kumactl's rules", () => {
  const none = { hasRules: false, dockerOutput: false };
  const rules = { hasRules: true, dockerOutput: false };
  const docker = { hasRules: true, dockerOutput: true };
  assertEquals(chooseMode(none, none).mode, "nft");
  assertEquals(chooseMode(rules, none).mode, "nft");
  assertEquals(chooseMode(none, rules).mode, "legacy");
  assertEquals(chooseMode(rules, docker), { mode: "legacy" });
  assertEquals(chooseMode(docker, rules), { mode: "nft" });
  const tie = chooseMode(docker, docker);
  assertEquals(tie.mode, "nft");
  assertMatch(tie.warning!, /iptables-legacy will be ignored/);
  assertEquals(chooseMode(rules, rules).mode, "nft");
});

Deno.test("detectExecutables() uses nft when only nft exists", async () => {
  const r = await detectExecutables(host(backend("nft")), ipv4(), dirs);
  assertEquals(r.v4, {
    mode: "nft",
    family: 4,
    iptables: "/usr/sbin/iptables-nft",
    save: "/usr/sbin/iptables-nft-save",
    restore: "/usr/sbin/iptables-nft-restore",
  });
  assertEquals(r.v6, undefined);
});

Deno.test("detectExecutables() uses legacy when only legacy exists, found under the plain name", async () => {
  const files = {
    "/usr/sbin/iptables": "iptables v1.8.9 (legacy)",
    "/usr/sbin/iptables-save": "iptables-save v1.8.9 (legacy)",
    "/usr/sbin/iptables-restore": "iptables-restore v1.8.9 (legacy)",
  };
  const r = await detectExecutables(host(files), ipv4(), dirs);
  assertEquals([r.v4.mode, r.v4.iptables, r.v4.restore], [
    "legacy",
    "/usr/sbin/iptables",
    "/usr/sbin/iptables-restore",
  ]);
});

Deno.test("detectExecutables() prefers a PATH hit over the fallback directories", async () => {
  const files = { ...backend("nft"), "iptables-nft": "iptables v1.8.9 (nf_tables)" };
  const r = await detectExecutables(host(files), ipv4(), dirs);
  assertEquals(r.v4.iptables, "iptables-nft");
  assertEquals(r.v4.save, "/usr/sbin/iptables-nft-save");
});

Deno.test("detectExecutables() picks the backend that holds rules, reading plain dumps only", async () => {
  const runner = host({ ...backend("nft"), ...backend("legacy") }, {
    "/usr/sbin/iptables-nft-save": EMPTY,
    "/usr/sbin/iptables-legacy-save": RULES,
  });
  const r = await detectExecutables(runner, ipv4(), dirs);
  assertEquals(r.v4.mode, "legacy");
  // No `-t <table>` probe: that would load legacy table modules.
  assertEquals(runner.calls.filter((c) => c.args.includes("-t")), []);
});

Deno.test("detectExecutables() breaks a tie by DOCKER_OUTPUT", async () => {
  const runner = host({ ...backend("nft"), ...backend("legacy") }, {
    "/usr/sbin/iptables-nft-save": RULES,
    "/usr/sbin/iptables-legacy-save": DOCKER,
  });
  const r = await detectExecutables(runner, ipv4(), dirs);
  assertEquals(r.v4.mode, "legacy");
  assertEquals(r.warnings, []);
});

Deno.test("detectExecutables() warns and uses nft when both hold rules alike", async () => {
  const runner = host({ ...backend("nft"), ...backend("legacy") }, {
    "/usr/sbin/iptables-nft-save": DOCKER,
    "/usr/sbin/iptables-legacy-save": DOCKER,
  });
  const r = await detectExecutables(runner, ipv4(), dirs);
  assertEquals(r.v4.mode, "nft");
  assertEquals(r.warnings.length, 1);
});

Deno.test("detectExecutables() gives IPv6 the IPv4 mode", async () => {
  const runner = host({
    ...backend("nft"),
    ...backend("legacy"),
    ...backend("nft", 6),
    ...backend("legacy", 6),
  }, {
    "/usr/sbin/iptables-legacy-save": RULES,
    "/usr/sbin/ip6tables-nft-save": RULES,
  });
  const r = await detectExecutables(runner, dualstack(), dirs);
  assertEquals(r.v4.mode, "legacy");
  assertEquals([r.v6?.mode, r.v6?.family, r.v6?.restore], [
    "legacy",
    6,
    "/usr/sbin/ip6tables-legacy-restore",
  ]);
});

Deno.test("detectExecutables() skips IPv6 with a warning when no ip6tables of the mode exists", async () => {
  const r = await detectExecutables(
    host({ ...backend("nft"), ...backend("legacy", 6) }),
    dualstack(),
    dirs,
  );
  assertEquals(r.v6, undefined);
  assertMatch(r.warnings.join("\n"), /IPv6 will be skipped/);
});

Deno.test("detectExecutables() fails when no backend is complete", async () => {
  const files = { ...backend("nft") };
  delete files["/usr/sbin/iptables-nft-restore"];
  const e = await assertRejects(
    () => detectExecutables(host(files), ipv4(), dirs),
    ExecutablesError,
  );
  assertEquals(e.code, "not_found");
});

Deno.test("detectExecutables() uses all three custom paths and takes their mode from --version", async () => {
  const files = {
    ...backend("nft"),
    "/opt/ipt": "iptables v1.8.9 (legacy)",
    "/opt/ipt-save": "iptables-save v1.8.9 (legacy)",
    "/opt/ipt-restore": "iptables-restore v1.8.9 (legacy)",
  };
  const config = ipv4();
  config.iptablesExecutables = {
    iptables: "/opt/ipt",
    "iptables-save": "/opt/ipt-save",
    "iptables-restore": "/opt/ipt-restore",
  };
  const r = await detectExecutables(host(files), config, dirs);
  assertEquals(r.v4, {
    mode: "legacy",
    family: 4,
    iptables: "/opt/ipt",
    save: "/opt/ipt-save",
    restore: "/opt/ipt-restore",
  });
  assertEquals(r.warnings, []);
});

Deno.test("detectExecutables() warns and auto-detects when custom paths are partial or broken", async () => {
  const config = ipv4();
  config.iptablesExecutables = { iptables: "/opt/ipt" };
  const partial = await detectExecutables(host(backend("nft")), config, dirs);
  assertEquals(partial.v4.mode, "nft");
  assertMatch(partial.warnings[0], /iptables-save, iptables-restore not given/);

  config.iptablesExecutables = {
    iptables: "/opt/a",
    "iptables-save": "/opt/b",
    "iptables-restore": "/opt/c",
  };
  const broken = await detectExecutables(host(backend("nft")), config, dirs);
  assertEquals(broken.v4.iptables, "/usr/sbin/iptables-nft");
  assertMatch(broken.warnings[0], /"\/opt\/a", "\/opt\/b", "\/opt\/c" did not report/);
});

Deno.test("detectExecutables() refuses custom paths of mixed types", async () => {
  const config = ipv4();
  config.iptablesExecutables = {
    iptables: "/usr/sbin/iptables-nft",
    "iptables-save": "/usr/sbin/iptables-legacy-save",
    "iptables-restore": "/usr/sbin/iptables-nft-restore",
  };
  const runner = host({ ...backend("nft"), ...backend("legacy") });
  const e = await assertRejects(() => detectExecutables(runner, config, dirs), ExecutablesError);
  assertEquals(e.code, "mixed_types");
  assertMatch(e.message, /iptables-save="\/usr\/sbin\/iptables-legacy-save" \(legacy\)/);
});

Deno.test("detectAllExecutables() lists every backend of every family", async () => {
  const runner = host({ ...backend("nft"), ...backend("legacy"), ...backend("nft", 6) });
  const r = await detectAllExecutables(runner, dualstack(), dirs);
  assertEquals(r.executables.map((e) => `${e.family}/${e.mode}`), ["4/nft", "4/legacy", "6/nft"]);
});

Deno.test("uninspectableBackends() names a family whose backend works only for the other family", () => {
  const set = (family: 4 | 6, mode: "nft" | "legacy") => ({
    mode,
    family,
    iptables: "x",
    save: "x",
    restore: "x",
  });
  assertEquals(uninspectableBackends([set(4, "nft"), set(6, "nft")]), []);
  // Legacy missing for both families is simply not installed (RHEL 8+).
  assertEquals(
    uninspectableBackends([set(4, "nft"), set(6, "nft"), set(4, "legacy")]).map((
      u,
    ) => [u.family, u.mode]),
    [[6, "legacy"]],
  );
  assertEquals(uninspectableBackends([set(4, "nft")]).map((u) => [u.family, u.mode]), [[6, "nft"]]);
  assertEquals(uninspectableBackends([set(6, "nft")]).map((u) => [u.family, u.mode]), [[4, "nft"]]);
  assertEquals(uninspectableBackends([]).map((u) => [u.family, u.mode]), [[4, undefined], [
    6,
    undefined,
  ]]);
});

/** Both backends' names for both families, each a symlink to its backend's multi-call binary. */
const ALL_BACKENDS = {
  ...backend("nft"),
  ...backend("nft", 6),
  ...backend("legacy"),
  ...backend("legacy", 6),
};

/** How many `--version` calls asked one of {@link ALL_BACKENDS}' names. */
const versions = (runner: FakeRunner) =>
  runner.calls.filter((c) => c.args[0] === "--version" && c.cmd in ALL_BACKENDS).length;

/** Where each of {@link ALL_BACKENDS}' names resolves: xtables-nft-multi or xtables-legacy-multi. */
const multiCallBinary = (cmd: string) =>
  Promise.resolve(
    cmd in ALL_BACKENDS
      ? `/usr/sbin/xtables-${cmd.includes("legacy") ? "legacy" : "nft"}-multi`
      : undefined,
  );

Deno.test("detectExecutables() asks --version once per real file when realPath is given", async () => {
  const files = ALL_BACKENDS;
  const plain = host(files);
  const without = await detectExecutables(plain, dualstack(), dirs);
  // Every name of a backend is a symlink to that backend's multi-call binary.
  const realPath = multiCallBinary;
  const shared = host(files);
  const withReal = await detectExecutables(shared, dualstack(), { ...dirs, realPath });
  assertEquals(withReal, without);
  assertEquals([versions(plain), versions(shared)], [12, 2]);
});

Deno.test("detectExecutables() with trustFileNames runs no --version for iptables' multi-call binaries", async () => {
  const files = ALL_BACKENDS;
  const expected = await detectExecutables(host(files), dualstack(), dirs);
  const multi = multiCallBinary;
  const trusted = host(files);
  const got = await detectExecutables(trusted, dualstack(), {
    ...dirs,
    realPath: multi,
    trustFileNames: true,
  });
  assertEquals(got, expected);
  assertEquals(versions(trusted), 0);

  // Any other real file (a wrapper script, a custom build) is still asked, once per file.
  const scripts = (cmd: string) =>
    Promise.resolve(
      cmd in files ? `/opt/${cmd.includes("legacy") ? "legacy" : "nft"}.sh` : undefined,
    );
  const asked = host(files);
  const fallback = await detectExecutables(asked, dualstack(), {
    ...dirs,
    realPath: scripts,
    trustFileNames: true,
  });
  assertEquals(fallback, expected);
  assertEquals(versions(asked), 2);
});

Deno.test("modeFromFileName() knows only the two multi-call binaries", () => {
  assertEquals(modeFromFileName("/usr/sbin/xtables-nft-multi"), "nft");
  assertEquals(modeFromFileName("/usr/sbin/xtables-legacy-multi"), "legacy");
  assertEquals(modeFromFileName("/usr/sbin/xtables-multi"), undefined);
  assertEquals(modeFromFileName("/usr/local/bin/iptables-nft"), undefined);
});
