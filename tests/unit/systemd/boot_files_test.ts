/**
 * boot_files.ts on a real file system: temp directories stand in for
 * /etc/systemd/system and /etc/kuma-tproxy, a recording fake for systemctl.
 */
import { assert, assertEquals, assertRejects } from "../../assert.ts";
import {
  readBootState,
  removeBootFiles,
  stageBootFiles,
  type SystemdHostIo,
} from "../../../src/systemd/boot_files.ts";
import { SystemdError } from "../../../src/systemd/errors.ts";
import { renderStoredConfig } from "../../../src/systemd/stored_config.ts";
import { renderUnit } from "../../../src/systemd/unit_file.ts";
import { defaultConfig } from "../../../src/config/defaults.ts";
import { fail, FakeRunner, ok } from "../os/fake_runner.ts";

interface Sandbox {
  root: string;
  host: SystemdHostIo;
  runner: FakeRunner;
}

/** A temp tree: etc/systemd/system (with an admin's units), etc/kuma-tproxy absent, run/systemd. */
async function withSandbox(
  options: { running?: boolean; systemctl?: (args: string[]) => ReturnType<typeof ok> },
  fn: (s: Sandbox) => Promise<void>,
): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "ktp-boot-" });
  try {
    const unitDir = `${root}/etc/systemd/system`;
    await Deno.mkdir(`${unitDir}/multi-user.target.wants`, { recursive: true });
    await Deno.writeTextFile(
      `${unitDir}/kuma-tproxy-foo.service`,
      "[Service]\nExecStart=/bin/true\n",
    );
    await Deno.mkdir(`${unitDir}/kuma-tproxy.service.d`);
    await Deno.writeTextFile(`${unitDir}/kuma-tproxy.service.d/override.conf`, "[Unit]\n");
    await Deno.symlink(
      "/lib/systemd/system/ssh.service",
      `${unitDir}/multi-user.target.wants/ssh.service`,
    );
    if (options.running) await Deno.mkdir(`${root}/run/systemd/system`, { recursive: true });
    // ln is real (it only ever touches the sandbox); systemctl is a recording fake.
    const runner = new FakeRunner(async (c) => {
      if (c.cmd !== "ln") return options.systemctl?.(c.args) ?? ok();
      const out = await new Deno.Command("ln", { args: c.args, stderr: "piped" }).output();
      return { code: out.code, stdout: "", stderr: new TextDecoder().decode(out.stderr) };
    });
    const host: SystemdHostIo = {
      dirs: { unitDir, configDir: `${root}/etc/kuma-tproxy` },
      runtimeDir: `${root}/run/systemd/system`,
      runner,
      readFile: (p) => Deno.readTextFile(p),
    };
    await fn({ root, host, runner });
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

/** Every path under `dir` with its type, mode and content or link target. */
async function tree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (d: string) => {
    for await (const e of Deno.readDir(d)) {
      const p = `${d}/${e.name}`;
      const st = await Deno.lstat(p);
      const mode = (st.mode! & 0o7777).toString(8);
      if (e.isSymlink) out[p] = `link ${await Deno.readLink(p)}`;
      else if (e.isDirectory) {
        out[p] = `dir ${mode}`;
        await walk(p);
      } else out[p] = `file ${mode} ${await Deno.readTextFile(p)}`;
    }
  };
  await walk(dir);
  return out;
}

const systemctlCalls = (runner: FakeRunner) =>
  runner.lines().filter((l) => l.startsWith("systemctl"));

const files = async (command = "/usr/bin/kuma-tproxy", config = defaultConfig()) => ({
  unit: renderUnit({ command: [command], configPath: "/etc/kuma-tproxy/boot.yaml" }),
  config: await renderStoredConfig(config),
});

Deno.test("stageBootFiles() + commit() write both files and enable like systemctl, without systemd", async () => {
  await withSandbox({}, async ({ root, host, runner }) => {
    const before = await tree(`${root}/etc`);
    const staged = await stageBootFiles(host, await files());
    // Staged only: the final paths do not exist yet.
    assertEquals((await readBootState(host)).unit.ownership, "absent");
    const report = await staged.commit();
    assert(report.lines.some((l) => l.includes("enabled kuma-tproxy.service")));
    const state = await readBootState(host);
    assertEquals([state.unit.ownership, state.config.ownership, state.link], [
      "ours",
      "ours",
      "ours",
    ]);
    const after = await tree(`${root}/etc`);
    const unitDir = host.dirs.unitDir;
    assertEquals(after[`${host.dirs.configDir}/boot.yaml`], `file 600 ${(await files()).config}`);
    assertEquals(after[`${unitDir}/kuma-tproxy.service`], `file 644 ${(await files()).unit}`);
    assertEquals(
      after[`${unitDir}/multi-user.target.wants/kuma-tproxy.service`],
      `link ${unitDir}/kuma-tproxy.service`,
    );
    assertEquals(after[host.dirs.configDir], "dir 755");
    assertEquals(systemctlCalls(runner), [], "systemctl must not run without systemd");

    await removeBootFiles(host, { dryRun: false });
    assertEquals(await tree(`${root}/etc`), before, "uninstall leaves the tree as before");
  });
});

Deno.test("stageBootFiles() refuses a kuma-tproxy.service it did not write, and changes nothing", async () => {
  await withSandbox({}, async ({ root, host }) => {
    await Deno.writeTextFile(
      `${host.dirs.unitDir}/kuma-tproxy.service`,
      "[Service]\nExecStart=/bin/x\n",
    );
    const before = await tree(`${root}/etc`);
    const e = await assertRejects(async () => stageBootFiles(host, await files()), SystemdError);
    assertEquals(e.code, "foreign_file");
    assertEquals(await tree(`${root}/etc`), before);
    // Uninstall keeps it too, and says so.
    const report = await removeBootFiles(host, { dryRun: false });
    assert(report.lines.some((l) => l.includes("kept") && l.includes("kuma-tproxy.service")));
    assertEquals(report.removed, 0);
    assertEquals(await tree(`${root}/etc`), before);
  });
});

Deno.test("commit() puts the previous unit and config back when enabling fails", async () => {
  await withSandbox({}, async ({ root, host }) => {
    await (await stageBootFiles(host, await files("/old/kuma-tproxy"))).commit();
    // Disabled by hand, and the .wants directory replaced by a file: the new symlink cannot be made.
    await Deno.remove(`${host.dirs.unitDir}/multi-user.target.wants`, { recursive: true });
    await Deno.writeTextFile(`${host.dirs.unitDir}/multi-user.target.wants`, "");
    const before = await tree(`${root}/etc`);
    const staged = await stageBootFiles(
      host,
      await files("/new/kuma-tproxy", {
        ...defaultConfig(),
        kumaDPUser: "1234",
      }),
    );
    const e = await assertRejects(() => staged.commit(), SystemdError);
    assert(e.message.includes("the previous unit and config were put back"), e.message);
    assertEquals(await tree(`${root}/etc`), before);
  });
});

Deno.test("stageBootFiles() fails with nothing changed when the unit directory is missing", async () => {
  await withSandbox({}, async ({ root, host }) => {
    await Deno.remove(host.dirs.unitDir, { recursive: true });
    const before = await tree(`${root}/etc`);
    const e = await assertRejects(async () => stageBootFiles(host, await files()), SystemdError);
    assert(e.message.includes("is systemd installed?"), e.message);
    assertEquals(await tree(`${root}/etc`), before);
  });
});

Deno.test("commit() and removeBootFiles() call systemctl when systemd runs", async () => {
  await withSandbox({ running: true }, async ({ host, runner }) => {
    await (await stageBootFiles(host, await files())).commit();
    assertEquals(runner.lines(), [
      "systemctl daemon-reload",
      "systemctl enable kuma-tproxy.service",
    ]);
    // The fake did not create the link, as systemctl would: make it, as systemctl enable does.
    await Deno.symlink(
      `${host.dirs.unitDir}/kuma-tproxy.service`,
      `${host.dirs.unitDir}/multi-user.target.wants/kuma-tproxy.service`,
    );
    runner.calls.length = 0;
    await removeBootFiles(host, { dryRun: false });
    assertEquals(runner.lines(), [
      "systemctl disable --now kuma-tproxy.service",
      "systemctl daemon-reload",
    ]);
    assertEquals((await readBootState(host)).unit.ownership, "absent");
  });
});

Deno.test("commit() undoes the files when systemctl enable fails", async () => {
  await withSandbox({
    running: true,
    systemctl: (args) => args[0] === "enable" ? fail("Failed to enable unit") : ok(),
  }, async ({ root, host, runner }) => {
    const before = await tree(`${root}/etc`);
    const staged = await stageBootFiles(host, await files());
    const e = await assertRejects(() => staged.commit(), SystemdError);
    assertEquals(e.code, "systemctl");
    assertEquals(await tree(`${root}/etc`), before);
    assertEquals(runner.lines(), [
      "systemctl daemon-reload",
      "systemctl enable kuma-tproxy.service",
      "systemctl daemon-reload",
    ]);
  });
});

Deno.test("removeBootFiles() with dryRun lists our files and removes nothing", async () => {
  await withSandbox({}, async ({ root, host }) => {
    await (await stageBootFiles(host, await files())).commit();
    const before = await tree(`${root}/etc`);
    const report = await removeBootFiles(host, { dryRun: true });
    assertEquals(report.removed, 3);
    assert(report.lines.every((l) => l.includes("would remove")));
    assertEquals(await tree(`${root}/etc`), before);
  });
});
