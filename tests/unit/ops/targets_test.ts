/**
 * The persistence targets' remove() and status() (src/ops/targets/): on a
 * real file system in temp directories, with a recording fake for
 * systemctl and no firewalld. And a third target, registered through the
 * registry's extension point, seen by install, status and uninstall driven
 * through cli() on the in-memory host (../cli/_memory_host.ts).
 */
import { assert, assertEquals, assertStringIncludes } from "../../assert.ts";
import { cli } from "../../../src/cli/cli.ts";
import { defaultConfig } from "../../../src/config/defaults.ts";
import type { Config } from "../../../src/config/types.ts";
import { storeInDirectXml } from "../../../src/firewalld/persist.ts";
import { EXIT } from "../../../src/ops/exit_codes.ts";
import type { FirewalldHost } from "../../../src/ops/firewalld_step.ts";
import type { OpsIo } from "../../../src/ops/io.ts";
import type { InstallPlan } from "../../../src/ops/plan.ts";
import type { BootUnitStatus, PersistenceStatus } from "../../../src/ops/status_report.ts";
import { directXmlTarget } from "../../../src/ops/targets/direct_xml.ts";
import { chooseTargets, registerTarget, TARGETS } from "../../../src/ops/targets/registry.ts";
import { systemdTarget } from "../../../src/ops/targets/systemd.ts";
import type { PersistTarget, TargetWant } from "../../../src/ops/targets/target.ts";
import { memoryHost } from "../cli/_memory_host.ts";
import { dualStackRuleSets, stubRuleArgs } from "../firewalld/_fixtures.ts";
import { fail, FakeRunner, ok } from "../os/fake_runner.ts";

const FOREIGN =
  `<?xml version="1.0" encoding="utf-8"?>\n<direct>\n  <passthrough ipv="ipv4">-t raw -N OPS</passthrough>\n</direct>\n`;

/** Just what the targets read of an OpsIo, over temp directories; ln is real, systemctl a fake. */
function opsIo(root: string, systemctl: () => ReturnType<typeof ok> = () => ok()): OpsIo & {
  runner: FakeRunner;
  errText: () => string;
} {
  let err = "";
  const runner = new FakeRunner(async (c) => {
    if (c.cmd !== "ln") return systemctl();
    const out = await new Deno.Command("ln", { args: c.args, stderr: "piped" }).output();
    return { code: out.code, stdout: "", stderr: new TextDecoder().decode(out.stderr) };
  });
  return {
    out: () => {},
    err: (t: string) => void (err += t),
    errText: () => err,
    runner,
    readFile: (p: string) => Deno.readTextFile(p),
    firewalldDir: `${root}/etc/firewalld`,
    boot: {
      unitDir: `${root}/etc/systemd/system`,
      configDir: `${root}/etc/kuma-tproxy`,
      runtimeDir: `${root}/run/systemd/system`,
    },
    selfCommand: ["/usr/local/bin/kuma-tproxy"],
  } as unknown as OpsIo & { runner: FakeRunner; errText: () => string };
}

/** A stopped firewalld whose config directory is `dir`. */
function stoppedHost(dir: string, running = false): FirewalldHost {
  return {
    running,
    installed: true,
    directXmlPath: `${dir}/direct.xml`,
    confPath: `${dir}/firewalld.conf`,
    conf: null,
  };
}

async function withRoot(fn: (root: string) => Promise<void>): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "ktp-targets-" });
  try {
    await fn(root);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

/** direct.xml holding an admin's passthrough and our 34 entries. */
async function directXmlWithOurs(dir: string): Promise<string> {
  await Deno.mkdir(dir, { recursive: true });
  const path = `${dir}/direct.xml`;
  await Deno.writeTextFile(path, FOREIGN);
  await storeInDirectXml({ runner: new FakeRunner(() => ok()) }, dualStackRuleSets(), {
    ruleArgs: stubRuleArgs,
    directXmlPath: path,
  });
  return path;
}

const iptables = (over: Partial<Config> = {}): Config => ({ ...defaultConfig(), ...over });
/** A plan that stores nothing: status then counts any entry of ours as drift. */
const EMPTY_PLAN = { families: [] } as unknown as InstallPlan;

Deno.test("direct.xml remove(): our entries only, a dry run lists them and changes nothing", () =>
  withRoot(async (root) => {
    const dir = `${root}/etc/firewalld`;
    const path = await directXmlWithOurs(dir);
    const before = await Deno.readTextFile(path);
    const io = opsIo(root);
    const target = directXmlTarget("none", { config: iptables(), io, host: stoppedHost(dir) });

    const dry = await target.remove({ dryRun: true });
    assertEquals([dry.removed, dry.warnings, dry.remains], [34, [], []]);
    assertEquals(dry.lines[0], `firewalld (${path}): would remove 26 rules and 8 chains`);
    assertEquals(dry.lines.length, 35);
    assertEquals(await Deno.readTextFile(path), before);

    const done = await target.remove({ dryRun: false });
    assertEquals([done.removed, done.warnings, done.remains], [34, [], []]);
    assert(done.lines.length > 0);
    assertEquals(await Deno.readTextFile(path), FOREIGN, "the admin's entry stays");

    const again = await target.remove({ dryRun: false });
    assertEquals([again.removed, again.lines], [0, []]);
  }));

Deno.test("direct.xml remove(): a file it cannot parse stays, named as what remains", () =>
  withRoot(async (root) => {
    const dir = `${root}/etc/firewalld`;
    await Deno.mkdir(dir, { recursive: true });
    await Deno.writeTextFile(`${dir}/direct.xml`, "<direct><chain");
    const io = opsIo(root);
    const target = directXmlTarget("none", { config: iptables(), io, host: stoppedHost(dir) });
    const r = await target.remove({ dryRun: false });
    assertEquals([r.removed, r.lines], [0, []]);
    assertEquals(r.warnings, [
      `${dir}/direct.xml was left as it is; removing our kernel rules anyway`,
    ]);
    assertEquals(r.remains.length, 1);
    assertStringIncludes(r.remains[0], "cannot be parsed");
    assertEquals(await Deno.readTextFile(`${dir}/direct.xml`), "<direct><chain");
  }));

Deno.test("direct.xml remove() and status(): a running or unprobed firewalld is the applier's", () =>
  withRoot(async (root) => {
    const dir = `${root}/etc/firewalld`;
    const path = await directXmlWithOurs(dir);
    const before = await Deno.readTextFile(path);
    const io = opsIo(root);
    for (const host of [stoppedHost(dir, true), undefined]) {
      const target = directXmlTarget("none", { config: iptables(), io, plan: EMPTY_PLAN, host });
      assertEquals(await target.remove({ dryRun: false }), {
        lines: [],
        removed: 0,
        warnings: [],
        remains: [],
      });
      assertEquals(await target.status(), undefined);
    }
    assertEquals(await Deno.readTextFile(path), before);
  }));

Deno.test("direct.xml status(): absent, ours drifted, unreadable", () =>
  withRoot(async (root) => {
    const dir = `${root}/etc/firewalld`;
    await Deno.mkdir(dir, { recursive: true });
    const io = opsIo(root);
    const status = (config: Config, want: TargetWant = "none") =>
      directXmlTarget(want, { config, io, plan: EMPTY_PLAN, host: stoppedHost(dir) }).status();

    // Not asked for and nothing there: nothing to say.
    assertEquals(await status(iptables()), undefined);
    // Asked for and absent, as the (empty) plan wants.
    const absent = await status(iptables({ storeFirewalld: true }), "ours");
    assertEquals(
      [absent?.target, absent?.stored, absent?.matches, absent?.unreadable],
      ["direct.xml", false, true, undefined],
    );

    await directXmlWithOurs(dir);
    const drifted = await status(iptables());
    assertEquals([drifted?.stored, drifted?.matches], [true, false]);
    const detail = drifted?.detail as PersistenceStatus;
    assertEquals([detail.firewalld, detail.directXml], ["stopped", { rules: 26, chains: 8 }]);

    await Deno.writeTextFile(`${dir}/direct.xml`, "<direct><chain");
    const unreadable = await status(iptables());
    assertEquals([unreadable?.unreadable, unreadable?.stored], [true, false]);
    assertStringIncludes((unreadable?.detail as PersistenceStatus).detail ?? "", "direct.xml");
  }));

/** The unit directory with an admin's unit beside where ours goes. */
async function unitDirs(root: string): Promise<void> {
  await Deno.mkdir(`${root}/etc/systemd/system/multi-user.target.wants`, { recursive: true });
  await Deno.writeTextFile(`${root}/etc/systemd/system/other.service`, "[Service]\n");
}

Deno.test("systemd status(): absent, ours matching, ours drifted", () =>
  withRoot(async (root) => {
    await unitDirs(root);
    const io = opsIo(root);
    const config = iptables({ storeSystemd: true });
    assertEquals(await systemdTarget("none", { config, io }).status(), undefined);
    const absent = await systemdTarget("ours", { config, io }).status();
    assertEquals([absent?.target, absent?.stored, absent?.matches], ["systemd", false, false]);

    const target = systemdTarget("ours", { config, io });
    await target.stage();
    await target.commit();
    const ours = await target.status();
    assertEquals([ours?.stored, ours?.matches], [true, true]);
    assertEquals((ours?.detail as BootUnitStatus).unit, "ours");

    // Another config: the stored one drifts, whatever is wanted.
    const other = iptables({ storeSystemd: true, kumaDPUser: "other-user" });
    for (const want of ["ours", "none"] as const) {
      const drifted = await systemdTarget(want, { config: other, io }).status();
      assertEquals([drifted?.stored, drifted?.matches], [true, false], want);
    }
  }));

Deno.test("systemd remove(): our unit, config and link only; a dry run lists them", () =>
  withRoot(async (root) => {
    await unitDirs(root);
    const io = opsIo(root);
    const config = iptables({ storeSystemd: true });
    const target = systemdTarget("ours", { config, io });
    await target.stage();
    await target.commit();
    const unit = `${root}/etc/systemd/system/kuma-tproxy.service`;

    const dry = await systemdTarget("none", { config, io }).remove({ dryRun: true });
    assertEquals([dry.removed, dry.warnings, dry.remains], [3, [], []]);
    assertEquals(dry.lines.every((l) => l.startsWith("systemd: would remove ")), true);
    assert((await Deno.lstat(unit)).isFile);

    const done = await systemdTarget("none", { config, io }).remove({ dryRun: false });
    assertEquals([done.removed, done.warnings, done.remains], [3, [], []]);
    assertEquals(done.lines, [
      `systemd: removed ${root}/etc/systemd/system/multi-user.target.wants/kuma-tproxy.service`,
      `systemd: removed ${unit}`,
      `systemd: removed ${root}/etc/kuma-tproxy/boot.yaml`,
    ]);
    const left = [];
    for await (const e of Deno.readDir(`${root}/etc/systemd/system`)) left.push(e.name);
    // The emptied .wants directory goes too (removeBootFiles: we may have created it).
    assertEquals(left, ["other.service"]);

    // A unit of that name we did not write is kept and named.
    await Deno.writeTextFile(unit, "[Service]\nExecStart=/bin/true\n");
    const foreign = await systemdTarget("none", { config, io }).remove({ dryRun: false });
    assertEquals([foreign.removed, foreign.lines], [0, [
      `systemd: kept ${unit}: kuma-tproxy did not write this unit`,
    ]]);
    assert((await Deno.lstat(unit)).isFile);
  }));

Deno.test("systemd remove(): a failure is what remains, not an exception", () =>
  withRoot(async (root) => {
    await unitDirs(root);
    await Deno.mkdir(`${root}/run/systemd/system`, { recursive: true });
    const config = iptables({ storeSystemd: true });
    const target = systemdTarget("ours", { config, io: opsIo(root) });
    await target.stage();
    await target.commit();
    const io = opsIo(root, () => fail("Failed to disable unit"));
    const r = await systemdTarget("none", { config, io }).remove({ dryRun: false });
    assertEquals([r.removed, r.lines], [0, []]);
    assertEquals(r.warnings.length, 1);
    assertStringIncludes(r.warnings[0], "removing our kernel rules anyway");
    assertEquals(r.remains.length, 1);
    assertStringIncludes(r.remains[0], "boot unit: ");
    assertStringIncludes(r.remains[0], "applies the rules again at the next boot");
  }));

Deno.test("chooseTargets() reads each registered target's choice, in commit order", () => {
  assertEquals(TARGETS.map((t) => t.name), ["direct.xml", "systemd"]);
  assertEquals(
    chooseTargets({ firewalld: false, systemd: true, removeUnit: false }, {
      firewalldRunning: false,
      staleEntries: "direct.xml",
    }),
    [{ name: "direct.xml", want: "none" }, { name: "systemd", want: "ours" }],
  );
  assertEquals(
    chooseTargets({ firewalld: true, systemd: false, removeUnit: true }, {
      firewalldRunning: true,
      staleEntries: "none",
    }),
    [],
    "a running firewalld is an applier",
  );
});

/** A third target kept in memory, recording what install, status and uninstall ask of it. */
function memoryTarget(calls: string[]) {
  return {
    name: "memory",
    wanted: () => "ours" as const,
    build: (want: TargetWant): PersistTarget => ({
      name: "memory",
      matches: () => Promise.resolve(false),
      check: () => Promise.resolve(void calls.push(`check ${want}`)),
      stage: () => Promise.resolve(void calls.push("stage")),
      commit: () => (calls.push("commit"), Promise.resolve(["memory: stored the rules"])),
      discard: () => Promise.resolve(void calls.push("discard")),
      remove: ({ dryRun }) => (calls.push(`remove dryRun=${dryRun}`),
        Promise.resolve({
          lines: ["memory: removed the rules"],
          removed: 1,
          warnings: [],
          remains: [],
        })),
      status: () => (calls.push(`status ${want}`),
        Promise.resolve({
          target: "memory",
          stored: true,
          matches: true,
        })),
    }),
  };
}

Deno.test("a registered third target goes through install, status and uninstall", async () => {
  const calls: string[] = [];
  const unregister = registerTarget(memoryTarget(calls));
  try {
    const IPV4 = ["--ip-family-mode", "ipv4"];
    const install = await memoryHost();
    assertEquals(await cli(["install", ...IPV4], install.io), EXIT.OK, install.err());
    // discard() after a commit is harmless: install calls it on every way out.
    assertEquals(calls, ["check ours", "stage", "commit", "discard"]);
    assertEquals(
      install.out(),
      "IPv4 (nft): installed 11 rules and 4 chains\nmemory: stored the rules\n",
    );

    calls.length = 0;
    const status = await memoryHost();
    await cli(["status", "--json", ...IPV4], status.io);
    assertEquals(calls, ["status ours"]);
    assertEquals(JSON.parse(status.out()).targets, [
      { target: "memory", stored: true, matches: true },
    ]);
    const text = await memoryHost();
    await cli(["status", ...IPV4], text.io);
    assertStringIncludes(text.out(), "Persistence (memory): stored\n");

    calls.length = 0;
    const uninstall = await memoryHost();
    assertEquals(await cli(["uninstall"], uninstall.io), EXIT.OK, uninstall.err());
    assertEquals(calls, ["remove dryRun=false"]);
    assertEquals(uninstall.out(), "memory: removed the rules\n");
  } finally {
    unregister();
  }
  assertEquals(TARGETS.map((t) => t.name), ["direct.xml", "systemd"]);
});
