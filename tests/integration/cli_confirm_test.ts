/**
 * `install --confirm-timeout` end to end: the real CLI in the test world (two
 * namespaces, the stand-in sidecar), on the boot host of ../world/boot_host.ts
 * (private /etc/systemd/system and /etc/kuma-tproxy, no firewalld), with a
 * private tmpfs on /run/kuma-tproxy so that the pending record and its
 * watcher never meet the machine's or another test's.
 *
 * The waiting is the feature: the deadlines are short (3s) and the tests
 * poll, with a bound, for the record to go; they never sleep to synchronise.
 *
 * Needs root, `ip netns`, unshare/nsenter, overlayfs (run with --allow-all).
 */
import { assert, assertEquals, assertNotEquals, assertStringIncludes } from "../assert.ts";
import { type BootHost, SYSTEMD_PATH, withBootHost } from "../world/boot_host.ts";
import { KUMA_DP_UID, PORTS } from "../world/world.ts";
import { KUMA_TPROXY, REPO_ROOT, runCli } from "./cli_run.ts";
import { validate } from "../json_schema.ts";
import { LEGACY_FLAGS, prepare, saves } from "./traffic_probes.ts";
import { PrivateMounts } from "../world/private_mounts.ts";

const SCHEMA = JSON.parse(
  await Deno.readTextFile(new URL("../../docs/report.schema.json", import.meta.url)),
);

const UNIT = "/etc/systemd/system/kuma-tproxy.service";
const RECORD = "/run/kuma-tproxy/pending.json";
const LOG = "/run/kuma-tproxy/confirm.log";
const WANTS_DIR = "/etc/systemd/system/multi-user.target.wants";

/** Config A redirects DNS, config B does not: two installs that differ in every backend. */
const A = [
  ...["--kuma-dp-user", String(KUMA_DP_UID)],
  ...["--exclude-inbound-ports", String(PORTS.hostExcluded)],
  "--redirect-dns",
];
const B = [...["--kuma-dp-user", String(KUMA_DP_UID)]];

function assertOk(r: { code: number; stdout: string; stderr: string }, what: string) {
  assertEquals(r.code, 0, `${what} exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
}

/** A private tmpfs on /run/kuma-tproxy in the host's mount namespace. */
async function privateRun(h: BootHost): Promise<void> {
  await h.mnt.sh(`
    mkdir -p /run/kuma-tproxy
    mount -t tmpfs -o mode=0700 tmpfs /run/kuma-tproxy`);
}

/** Every file the boot path reads, byte for byte (absent: null). */
async function bootFiles(h: BootHost): Promise<Record<string, string | null>> {
  const out: Record<string, string | null> = {};
  for (
    const p of [
      UNIT,
      "/etc/systemd/system/multi-user.target.wants/kuma-tproxy.service",
      "/etc/kuma-tproxy/boot.yaml",
    ]
  ) {
    try {
      const st = await Deno.lstat(h.path(p));
      out[p] = st.isSymlink
        ? `link ${await Deno.readLink(h.path(p))}`
        : `${(st.mode! & 0o7777).toString(8)} ${await Deno.readTextFile(h.path(p))}`;
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
      out[p] = null;
    }
  }
  return out;
}

/**
 * `nft list ruleset` as a set of tables, each a set of chains (and sets) with
 * their rules in order. nft lists objects in the order they were created,
 * which a rollback that re-creates them cannot keep and which means nothing
 * to the kernel. An empty base chain with policy accept is left out: it is
 * what iptables-nft leaves behind when the last rule of a built-in chain goes
 * (the same as after uninstall), and it changes no packet.
 */
function normalRuleset(text: string): string[] {
  const tables: string[] = [];
  for (const block of text.split(/^(?=table )/m).filter((b) => b.trim())) {
    const lines = block.trimEnd().split("\n");
    const [head, body] = [lines[0], lines.slice(1, -1).join("\n")];
    const objects = body.split(/\n\n/).filter((o) => o.trim() !== "")
      .filter((o) => !/^\tchain \S+ \{\n\t\ttype [^\n]*policy accept;\n\t\}$/.test(o));
    tables.push([head, ...objects.sort()].join("\n"));
  }
  return tables.sort();
}

/**
 * The kernel as the tests compare it: every iptables backend and family's
 * save, exactly, and `nft list ruleset` ({@linkcode normalRuleset}).
 */
async function kernel(h: BootHost): Promise<Record<string, string | string[]>> {
  return {
    ...await saves(h.world.host),
    nft: normalRuleset(await h.world.host.exec("nft", ["list", "ruleset"])),
  };
}

/** The pending record, if any. */
async function record(h: BootHost): Promise<{ watcherPid?: number; deadline: number } | null> {
  try {
    return JSON.parse(await Deno.readTextFile(h.path(RECORD)));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

function alive(pid: number): boolean {
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch {
    return false;
  }
}

/** Polls, at most `ms`, until `done()`; a deadline of 3s plus the lock and the rollback fit well. */
async function until(what: string, done: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await done())) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((ok) => setTimeout(ok, 100));
  }
}

/** Waits for the watcher to roll back: the record gone and the watcher exited. */
async function rolledBack(h: BootHost, pid: number | undefined): Promise<void> {
  await until("the record is gone", async () => (await record(h)) === null);
  if (pid !== undefined) await until("the watcher exited", () => Promise.resolve(!alive(pid)));
}

/** Kills a watcher still running (a failed test), so nothing outlives the host. */
async function killWatcher(h: BootHost): Promise<void> {
  const r = await record(h).catch(() => null);
  if (r?.watcherPid && alive(r.watcherPid)) Deno.kill(r.watcherPid, "SIGKILL");
}

async function withHost(fn: (h: BootHost) => Promise<void>): Promise<void> {
  await withBootHost(async (h) => {
    try {
      await privateRun(h);
      await fn(h);
    } finally {
      await killWatcher(h);
    }
  });
}

for (const backend of ["nft", "legacy", "nftables"] as const) {
  const flags = backend === "legacy"
    ? LEGACY_FLAGS
    : backend === "nftables"
    ? ["--backend", "nftables"]
    : [];
  Deno.test(`install --confirm-timeout without confirm puts back the exact previous state (${backend})`, async () => {
    await withHost(async (h) => {
      await prepare(h.world, backend);
      // The previous state: config B, stored for boot (iptables, so a switch for nftables).
      const base = backend === "legacy" ? LEGACY_FLAGS : [];
      assertOk(await h.cli(["install", ...B, ...base, "--store-systemd"]), "install B");
      const before = { kernel: await kernel(h), files: await bootFiles(h) };
      assert(before.files[UNIT] !== null);

      const r = await h.cli([
        "install",
        ...A,
        ...flags,
        "--store-systemd",
        "--confirm-timeout",
        "3s",
      ]);
      assertOk(r, "install A --confirm-timeout 3s");
      assertStringIncludes(r.stderr, "run `kuma-tproxy confirm` within 3s");
      const pending = await record(h);
      assert(pending?.watcherPid, "the record names its watcher");
      assertNotEquals(await kernel(h), before.kernel, "the new rules are in");
      assertEquals(await bootFiles(h), before.files, "nothing read at boot changed");

      await rolledBack(h, pending.watcherPid);
      assertEquals(await kernel(h), before.kernel, "the exact previous kernel state");
      assertEquals(await bootFiles(h), before.files);
      const log = await Deno.readTextFile(h.path(LOG));
      assertStringIncludes(log, "was not confirmed within 3s: the previous rules were put back");
      const again = await h.cli(["confirm"]);
      assertEquals(again.code, 1, again.stderr);
      assertStringIncludes(again.stderr, "no install is waiting for confirmation");
    });
  });
}

Deno.test("install --confirm-timeout: the watcher rolls back after install was SIGKILLed", async () => {
  await withHost(async (h) => {
    await prepare(h.world, "nft");
    assertOk(await h.cli(["install", ...B]), "install B");
    const before = await kernel(h);
    const argv = [
      ...h.mnt.argv,
      ...["ip", "netns", "exec", h.world.host.name, KUMA_TPROXY],
      ...["install", ...A, "--confirm-timeout", "3s"],
    ];
    const child = new Deno.Command(argv[0], {
      args: argv.slice(1),
      cwd: REPO_ROOT,
      clearEnv: true,
      env: { PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" },
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    // nsenter and ip netns exec exec: the child is the CLI itself. Killed once it printed.
    let err = "";
    const decoder = new TextDecoder();
    for await (const chunk of child.stderr) {
      err += decoder.decode(chunk);
      if (err.includes("kuma-tproxy confirm")) break;
    }
    // It may have exited already (the line is its last): either way it is gone, the watcher not.
    try {
      child.kill("SIGKILL");
    } catch {
      // exited
    }
    const status = await child.status;
    assert(status.signal === "SIGKILL" || status.code === 0, `${status.code} ${err}`);
    const pending = await record(h);
    assert(pending?.watcherPid && alive(pending.watcherPid), "the watcher outlived install");
    assertNotEquals(await kernel(h), before);
    await rolledBack(h, pending.watcherPid);
    assertEquals(await kernel(h), before, "the exact previous kernel state");
  });
});

Deno.test("install --confirm-timeout, then confirm: the new rules stay and are stored", async () => {
  await withHost(async (h) => {
    await prepare(h.world, "nft");
    assertOk(await h.cli(["install", ...B, "--store-systemd"]), "install B");
    const files = await bootFiles(h);
    const r = await h.cli(["install", ...A, "--store-systemd", "--confirm-timeout", "1h"]);
    assertOk(r, "install A --confirm-timeout 1h");
    const applied = await kernel(h);
    const pending = await record(h);
    assertEquals(await bootFiles(h), files, "nothing read at boot changed yet");

    const text = await h.cli(["status", ...A, "--store-systemd"]);
    assertStringIncludes(
      text.stdout,
      `Pending confirmation: until ${
        new Date(pending!.deadline).toISOString()
      }; run kuma-tproxy confirm to keep these rules and store them (systemd), or the previous ` +
        "rules come back\n",
    );
    const json = await h.cli(["status", ...A, "--store-systemd", "--json"]);
    const status = JSON.parse(json.stdout);
    assertEquals(validate(SCHEMA, status), [], json.stdout);
    assertEquals(status.pending.deferred, ["systemd"]);
    assertEquals(status.pending.applied, true);

    const second = await h.cli(["install", ...B]);
    assertEquals(second.code, 1, second.stderr);
    assertStringIncludes(second.stderr, "run `kuma-tproxy confirm` to keep it");
    assertEquals(await kernel(h), applied, "a refused install changes nothing");

    const c = await h.cli(["confirm", "--json"]);
    assertOk(c, "confirm");
    const report = JSON.parse(c.stdout);
    assertEquals(validate(SCHEMA, report), [], c.stdout);
    assertEquals([report.command, report.exitCode, report.changed], ["confirm", 0, true]);
    assertEquals(await record(h), null);
    await until("the watcher exited", () => Promise.resolve(!alive(pending!.watcherPid!)), 10_000);
    assertEquals(await kernel(h), applied, "the new rules stay");
    const stored = await bootFiles(h);
    assertNotEquals(stored, files, "confirm wrote the boot files");
    assertStringIncludes(stored["/etc/kuma-tproxy/boot.yaml"]!, "enabled: true");
    const after = await h.cli(["status", ...A, "--store-systemd"]);
    assertOk(after, "status after confirm");
    assertStringIncludes(after.stdout, "matches config");
    assert(!after.stdout.includes("Pending"), after.stdout);

    // The same install again changes nothing: nothing to roll back, so nothing waits.
    const again = await h.cli(["install", ...A, "--store-systemd", "--confirm-timeout", "1h"]);
    assertOk(again, "the same install --confirm-timeout again");
    assertStringIncludes(again.stdout, "unchanged");
    assert(!again.stderr.includes("not confirmed yet"), again.stderr);
    assertEquals(await record(h), null, "no pending record for an unchanged install");
    assertEquals(await kernel(h), applied);
  });
});

Deno.test("install --confirm-timeout: a reboot in the pending window comes back to the previous state", async () => {
  await withHost(async (h) => {
    await prepare(h.world, "nft");
    assertOk(await h.cli(["install", ...B, "--store-systemd"]), "install B");
    // What the boot path restores: our rules (the reboot drops the foreign ones of prepare()).
    const ours = (k: Record<string, string>) =>
      Object.fromEntries(
        Object.entries(k).map((
          [n, s],
        ) => [n, s.split("\n").filter((l) => /KUMA_MESH|kuma\/mesh/.test(l))]),
      );
    const before = ours(await saves(h.world.host));
    assertOk(
      await h.cli(["install", ...A, "--store-systemd", "--confirm-timeout", "1h"]),
      "install A",
    );
    assertNotEquals(ours(await saves(h.world.host)), before);
    // The reboot: the watcher dies, /run is empty, the kernel holds no rules; then the unit runs.
    const pending = await record(h);
    Deno.kill(pending!.watcherPid!, "SIGKILL");
    await until("the watcher died", () => Promise.resolve(!alive(pending!.watcherPid!)));
    const flush = await h.run([
      "sh",
      "-ec",
      `
      rm -f /run/kuma-tproxy/*
      nft flush ruleset
      for t in filter nat mangle raw security; do
        for x in iptables-legacy ip6tables-legacy; do $x -t $t -F; $x -t $t -X; done
      done`,
    ], { env: { PATH: SYSTEMD_PATH } });
    assertOk(flush, "the simulated reboot");
    const unit = await Deno.readTextFile(h.path(UNIT));
    const exec = unit.split("\n").find((l) => l.startsWith("ExecStart="))!.slice(10).split(" ");
    assertOk(await h.run(exec, { env: { PATH: SYSTEMD_PATH }, cwd: "/" }), "the unit's ExecStart");
    assertEquals(
      ours(await saves(h.world.host)),
      before,
      "the boot brought back the previous rules",
    );
  });
});

Deno.test("install --confirm-timeout with a bad duration: one line, exit 2, before anything", async () => {
  for (const bad of ["0s", "2h", "soon", "-3s"]) {
    // Not even root is needed to be told: nothing is read or changed.
    const r = await runCli(["install", "--confirm-timeout", bad], { uid: 65534 });
    assertEquals(r.code, 2, r.stderr);
    assertStringIncludes(r.stderr, "--confirm-timeout: ");
    assertEquals(r.stderr.trim().split("\n").length, 1, r.stderr);
  }
  const dry = await runCli(["install", "--dry-run", "--confirm-timeout", "3s"], { uid: 65534 });
  assertEquals(dry.code, 0, dry.stderr);
  assertStringIncludes(dry.stderr, "[dry-run] --confirm-timeout: nothing is applied");
});

Deno.test("install --confirm-timeout: rules of others added in the window are kept by the rollback", async () => {
  await withHost(async (h) => {
    await prepare(h.world, "nft");
    assertOk(await h.cli(["install", ...B]), "install B");
    const before = await saves(h.world.host);
    assertOk(await h.cli(["install", ...A, "--confirm-timeout", "3s"]), "install A");
    const pending = await record(h);
    // An admin's rule, at the top of a chain that holds ours.
    await h.world.host.exec("iptables-nft", [
      "-t",
      "nat",
      "-I",
      "OUTPUT",
      "1",
      "-d",
      "192.0.2.7",
      "-j",
      "RETURN",
    ]);
    await rolledBack(h, pending!.watcherPid);
    const after = await saves(h.world.host);
    // Our rules are re-created at the positions they had, counted in a chain that now holds one
    // more rule: the same rules, not the same order (the log says so).
    const sorted = (t: string) => t.split("\n").sort();
    assertEquals(
      sorted(after["nft/IPv4"].replace("-A OUTPUT -d 192.0.2.7/32 -j RETURN\n", "")),
      sorted(before["nft/IPv4"]),
      "ours as before, the admin's rule kept",
    );
    assertStringIncludes(after["nft/IPv4"], "-A OUTPUT -d 192.0.2.7/32 -j RETURN\n");
    assertEquals(after["nft/IPv6"], before["nft/IPv6"]);
    const log = await Deno.readTextFile(h.path(LOG));
    assertStringIncludes(log, "IPv4 (nft): rules of others changed in table nat since the install");
  });
});

Deno.test("uninstall while an install is pending supersedes it: nothing is rolled back after", async () => {
  await withHost(async (h) => {
    await prepare(h.world, "nft");
    const empty = await saves(h.world.host);
    assertOk(await h.cli(["install", ...B, "--store-systemd"]), "install B");
    assertOk(await h.cli(["install", ...A, "--confirm-timeout", "3s"]), "install A");
    const pending = await record(h);
    const u = await h.cli(["uninstall"]);
    assertOk(u, "uninstall");
    assertStringIncludes(u.stderr, "uninstall supersedes the install waiting for confirmation");
    assertEquals(await record(h), null);
    await until("the watcher exited", () => Promise.resolve(!alive(pending!.watcherPid!)));
    assertEquals(await saves(h.world.host), empty, "uninstalled, and it stays so");
    assertEquals((await bootFiles(h))[UNIT], null);
  });
});

Deno.test("install --verify --confirm-timeout: a path that fails rolls back at once", async () => {
  await withHost(async (h) => {
    await prepare(h.world, "nft");
    assertOk(await h.cli(["install", ...B]), "install B");
    const before = await kernel(h);
    await h.world.stopSidecar();
    try {
      const r = await h.cli(["install", ...A, "--verify", "--confirm-timeout", "1h"]);
      assertEquals(r.code, 1, r.stdout + r.stderr);
      assert(/^FAILED outbound IPv4: nothing listens/m.test(r.stdout), r.stdout);
      assertStringIncludes(
        r.stderr,
        "verify failed after the install: the previous rules were put back",
      );
      assertEquals(await record(h), null, "nothing is pending");
      assertEquals(await kernel(h), before, "the exact previous kernel state, at once");
    } finally {
      await h.world.startSidecar();
    }
  });
});

/** `kuma-tproxy ...args` with a terminal on stdin (script(1)'s pty), typing `typed`. */
async function onTerminal(h: BootHost, args: string[], typed: string) {
  const argv = [
    ...h.mnt.argv,
    ...["ip", "netns", "exec", h.world.host.name],
    ...["script", "-qec", [KUMA_TPROXY, ...args].join(" "), "/dev/null"],
  ];
  const child = new Deno.Command(argv[0], {
    args: argv.slice(1),
    cwd: REPO_ROOT,
    clearEnv: true,
    env: { PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", TERM: "dumb" },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // Typed ahead: the terminal keeps the line until the prompt reads it.
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(typed));
  await writer.close();
  const out = await child.output();
  return { code: out.code, text: new TextDecoder().decode(out.stdout) };
}

Deno.test("install --confirm-timeout on a terminal asks: y keeps and stores, anything else rolls back at once", async () => {
  await withHost(async (h) => {
    await prepare(h.world, "nft");
    assertOk(await h.cli(["install", ...B, "--store-systemd"]), "install B");
    const before = { kernel: await kernel(h), files: await bootFiles(h) };
    const install = ["install", ...A, "--store-systemd", "--confirm-timeout", "1h"];

    const no = await onTerminal(h, install, "n\n");
    assertEquals(no.code, 1, no.text);
    assertStringIncludes(no.text, "keep these rules? [y/N]");
    assertStringIncludes(no.text, "not kept at the prompt: the previous rules were put back");
    assertEquals(await record(h), null);
    assertEquals(await kernel(h), before.kernel, "the exact previous kernel state, at once");
    assertEquals(await bootFiles(h), before.files);

    const yes = await onTerminal(h, install, "y\n");
    assertEquals(yes.code, 0, yes.text);
    assertStringIncludes(yes.text, "confirmed: the rules stay");
    assertEquals(await record(h), null);
    assertNotEquals(await kernel(h), before.kernel);
    assertNotEquals(await bootFiles(h), before.files, "confirmed, so stored");
  });
});

Deno.test("install --confirm-timeout from the nftables backend to iptables: our previous nft table comes back", async () => {
  await withHost(async (h) => {
    await prepare(h.world, "nftables");
    assertOk(await h.cli(["install", ...B, "--backend", "nftables"]), "install B (nftables)");
    const before = await kernel(h);
    const table = await h.world.host.exec("nft", [
      "list",
      "table",
      "inet",
      "kuma_mesh_transparent_proxy",
    ]);
    const r = await h.cli(["install", ...A, "--confirm-timeout", "3s"]);
    assertOk(r, "install A (iptables) --confirm-timeout 3s");
    const gone = await h.world.host.run("nft", [
      "list",
      "table",
      "inet",
      "kuma_mesh_transparent_proxy",
    ]);
    assertNotEquals(gone.code, 0, "the switch removed our nft table");
    const pending = await record(h);
    await rolledBack(h, pending!.watcherPid);
    assertEquals(await kernel(h), before, "the exact previous state, iptables and nft");
    assertEquals(
      await h.world.host.exec("nft", ["list", "table", "inet", "kuma_mesh_transparent_proxy"]),
      table,
      "our nft table, as it was",
    );
    const log = await Deno.readTextFile(h.path(LOG));
    assertStringIncludes(log, "nft: our table put back as it was");
  });
});

Deno.test("install --confirm-timeout killed half-way: confirm refuses it and puts the previous rules back", async () => {
  await withHost(async (h) => {
    await prepare(h.world, "nft");
    assertOk(await h.cli(["install", ...B]), "install B");
    const before = await kernel(h);
    // The deterministic trigger: an `ip` that blocks at `ip -6 addr add ::6/128`, which install
    // runs after the kernel apply (here ::6 is gone), until the test lets it go.
    const dir = await Deno.makeTempDir({ prefix: "ktp-confirm-" });
    const real = ["/usr/sbin/ip", "/sbin/ip", "/bin/ip"].find((p) => {
      try {
        return Deno.statSync(p).isFile;
      } catch {
        return false;
      }
    })!;
    await Deno.writeTextFile(
      `${dir}/ip`,
      `#!/bin/sh\ncase "$*" in *"addr add ::6/128"*) : > '${dir}/blocked'; read x < '${dir}/go'; exit 1;; esac\n` +
        `exec ${real} "$@"\n`,
    );
    await Deno.chmod(`${dir}/ip`, 0o755);
    await Deno.chmod(dir, 0o755);
    const mkfifo = await new Deno.Command("mkfifo", { args: [`${dir}/go`] }).output();
    assert(mkfifo.success);
    try {
      await h.world.host.exec("ip", ["-6", "addr", "del", "::6/128", "dev", "lo"]);
      const argv = [
        ...h.mnt.argv,
        ...["ip", "netns", "exec", h.world.host.name, KUMA_TPROXY],
        ...["install", ...A, "--confirm-timeout", "1h"],
      ];
      const child = new Deno.Command(argv[0], {
        args: argv.slice(1),
        cwd: REPO_ROOT,
        clearEnv: true,
        env: { PATH: `${dir}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin` },
        stdin: "null",
        stdout: "null",
        stderr: "null",
      }).spawn();
      await until("install blocks after the apply", async () => {
        try {
          await Deno.stat(`${dir}/blocked`);
          return true;
        } catch {
          return false;
        }
      });
      child.kill("SIGKILL");
      assertEquals((await child.status).signal, "SIGKILL");
      const pending = await record(h) as { applied: boolean; watcherPid: number } | null;
      assertEquals(pending?.applied, false, "recorded before the apply, never finished");
      assertNotEquals(await kernel(h), before, "the new rules were in when it died");

      const c = await h.cli(["confirm"]);
      assertEquals(c.code, 1, c.stderr);
      assertStringIncludes(
        c.stderr,
        "did not finish (it was killed): the previous rules were put back",
      );
      assertEquals(await record(h), null);
      assertEquals(await kernel(h), before, "the exact previous kernel state");
      await until("the watcher exited", () => Promise.resolve(!alive(pending!.watcherPid)));
    } finally {
      // Lets a blocked wrapper go (it reads one line), so nothing of the test outlives it.
      if ((await Deno.stat(`${dir}/blocked`).catch(() => null)) !== null) {
        await Deno.writeTextFile(`${dir}/go`, "go\n");
      }
      await Deno.remove(dir, { recursive: true });
    }
  });
});

Deno.test("install after an overdue pending install whose watcher is gone rolls that one back first", async () => {
  await withHost(async (h) => {
    await prepare(h.world, "nft");
    assertOk(await h.cli(["install", ...B]), "install B");
    const before = await kernel(h);
    assertOk(await h.cli(["install", ...A, "--confirm-timeout", "2s"]), "install A");
    const pending = await record(h);
    // The watcher killed (the OOM killer, say) before its deadline: nothing else rolls back.
    Deno.kill(pending!.watcherPid!, "SIGKILL");
    await until("the watcher died", () => Promise.resolve(!alive(pending!.watcherPid!)));
    await until("the deadline passed", () => Promise.resolve(Date.now() > pending!.deadline));
    assert((await record(h)) !== null, "still pending");
    const r = await h.cli(["install", ...B]);
    assertOk(r, "install B again");
    assertStringIncludes(r.stderr, "is overdue: the previous rules were put back");
    assertEquals(await record(h), null);
    assertEquals(await kernel(h), before, "B, as before");
  });
});

Deno.test("a damaged pending record: status, confirm and install say so and change nothing; uninstall sets it aside", async () => {
  await withHost(async (h) => {
    await prepare(h.world, "nft");
    const empty = await kernel(h);
    assertOk(await h.cli(["install", ...B]), "install B");
    const before = await kernel(h);
    assertOk(await h.cli(["install", ...A, "--confirm-timeout", "2s"]), "install A");
    const applied = await kernel(h);
    const pending = await record(h);
    // Cut short, as a full disk or an editor leaves it, then overdue: its watcher gives up.
    const text = await Deno.readTextFile(h.path(RECORD));
    await Deno.writeTextFile(h.path(RECORD), text.slice(0, 200));
    await until("the watcher exited", () => Promise.resolve(!alive(pending!.watcherPid!)));
    await until("the deadline passed", () => Promise.resolve(Date.now() > pending!.deadline));
    const damaged = `${RECORD} is not a record this kuma-tproxy wrote (not valid JSON)`;
    const log = await Deno.readTextFile(h.path(LOG));
    assertStringIncludes(log, `the watcher ${(pending as { id?: string }).id} cannot read`);

    const status = await h.cli(["status", ...A]);
    assertEquals(status.code, 0, status.stderr);
    assertStringIncludes(status.stderr, damaged);
    for (
      const args of [["confirm"], ["install", ...B], ["install", ...B, "--confirm-timeout", "1h"]]
    ) {
      const r = await h.cli(args);
      assertEquals(r.code, 1, `${args.join(" ")}: ${r.stderr}`);
      assertStringIncludes(r.stderr, damaged);
      assertEquals(r.stderr.trim().split("\n").length, 1, r.stderr);
      assertEquals(await kernel(h), applied, `${args[0]} changed nothing`);
    }
    assertEquals(await Deno.readTextFile(h.path(RECORD)), text.slice(0, 200));
    assertNotEquals(before, applied);

    const u = await h.cli(["uninstall"]);
    assertOk(u, "uninstall");
    assertStringIncludes(u.stderr, `${RECORD}.damaged`);
    assertEquals(await record(h), null);
    assertEquals(await Deno.readTextFile(h.path(`${RECORD}.damaged`)), text.slice(0, 200));
    assertEquals(await kernel(h), empty, "uninstalled");
  });
});

Deno.test("install --confirm-timeout refuses before any change when setsid fails or the watcher never starts", async () => {
  await withHost(async (h) => {
    await prepare(h.world, "nft");
    assertOk(await h.cli(["install", ...B, "--store-systemd"]), "install B");
    const before = { kernel: await kernel(h), files: await bootFiles(h) };
    const dir = await Deno.makeTempDir({ prefix: "ktp-setsid-" });
    try {
      await Deno.chmod(dir, 0o755);
      const cases: [string, string][] = [
        // setsid runs, and fails (as util-linux's does when setsid(2) is refused).
        ["exit", `echo "setsid: failed to execute: Permission denied" >&2; exit 1`],
        // setsid runs the program, which dies before it watches (killed, out of memory).
        ["killed", `kill -KILL $$`],
      ];
      for (const [what, body] of cases) {
        await Deno.writeTextFile(`${dir}/setsid`, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
        await Deno.chmod(`${dir}/setsid`, 0o755);
        const r = await h.run([
          KUMA_TPROXY,
          "install",
          ...A,
          "--store-systemd",
          "--confirm-timeout",
          "1h",
        ], {
          env: { PATH: `${dir}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin` },
        });
        assertEquals(r.code, 1, `${what}: ${r.stdout}${r.stderr}`);
        assertStringIncludes(
          r.stderr,
          "cannot start the process that rolls back an unconfirmed install",
        );
        assertStringIncludes(r.stderr, "nothing was changed");
        assertEquals(await record(h), null, `${what}: no record left`);
        assertEquals(await kernel(h), before.kernel, `${what}: the kernel as it was`);
        assertEquals(await bootFiles(h), before.files, `${what}: the boot files as they were`);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
});

Deno.test("confirm killed while it writes the boot files: the rules stay, and confirm again finishes", async () => {
  await withHost(async (h) => {
    await prepare(h.world, "nft");
    // systemd "running" (its runtime dir), so confirm's commit runs `systemctl daemon-reload`
    // after it moved the boot files in: the trigger kills confirm there, files written, record kept.
    await h.mnt.sh("mkdir -p /run/systemd/system");
    const dir = await Deno.makeTempDir({ prefix: "ktp-confirm-kill-" });
    await Deno.chmod(dir, 0o755);
    await Deno.writeTextFile(
      `${dir}/systemctl`,
      // `enable` does what systemctl enable does to the files (the link), nothing else runs.
      `#!/bin/sh\n[ "$1" = daemon-reload ] && [ -e '${dir}/armed' ] && { rm '${dir}/armed'; kill -KILL $PPID; }\n` +
        `[ "$1" = enable ] && { mkdir -p ${WANTS_DIR}; ln -sfn ${UNIT} ${WANTS_DIR}/kuma-tproxy.service; }\n` +
        "exit 0\n",
      { mode: 0o755 },
    );
    await Deno.chmod(`${dir}/systemctl`, 0o755);
    const cli = (args: string[]) =>
      h.run([KUMA_TPROXY, ...args], {
        env: {
          PATH: `${dir}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
          HOME: Deno.env.get("HOME") ?? "/root",
          ...h.world.toolEnv(),
        },
      });
    try {
      assertOk(await cli(["install", ...B, "--store-systemd"]), "install B");
      const files = await bootFiles(h);
      assertOk(
        await cli(["install", ...A, "--store-systemd", "--confirm-timeout", "3s"]),
        "install A",
      );
      const applied = await kernel(h);
      const pending = await record(h);
      await Deno.writeTextFile(`${dir}/armed`, "");
      const killed = await cli(["confirm"]);
      assertEquals(killed.code, 137, `confirm was killed: ${killed.stderr}`);
      assertNotEquals(await bootFiles(h), files, "the boot files were written when it died");
      // The deadline passes with the watcher there: the confirmed rules must not be rolled back
      // under boot files that hold them.
      await until("the watcher exited", () => Promise.resolve(!alive(pending!.watcherPid!)));
      await until("the deadline passed", () => Promise.resolve(Date.now() > pending!.deadline));
      assertEquals(await kernel(h), applied, "confirmed: the new rules stay");
      const status = await cli(["status", ...A, "--store-systemd"]);
      assertStringIncludes(status.stdout, "run kuma-tproxy confirm to finish storing");
      const refused = await cli(["install", ...B]);
      assertEquals(refused.code, 1, refused.stderr);
      assertStringIncludes(refused.stderr, "run `kuma-tproxy confirm` to finish");
      assertEquals(await kernel(h), applied);

      const again = await cli(["confirm"]);
      assertOk(again, "confirm again");
      assertEquals(await record(h), null);
      assertEquals(await kernel(h), applied);
      const after = await cli(["status", ...A, "--store-systemd"]);
      assertOk(after, "status after the second confirm");
      assertStringIncludes(after.stdout, "matches config");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
});

Deno.test("a rollback that fails keeps the record: status says it is overdue, confirm retries", async () => {
  await withHost(async (h) => {
    await prepare(h.world, "nft");
    assertOk(await h.cli(["install", ...B]), "install B");
    const before = await kernel(h);
    // iptables-restore fails while STATE/armed exists, in the host's mount namespace, so the
    // watcher (started there by install) meets it.
    const restore = (name: string) =>
      `[ -e "$STATE/armed" ] && { echo "${name}: armed to fail" >&2; exit 1; }\n` +
      `exec /usr/sbin/xtables-nft-multi ${name} "$@"`;
    const mounts = await PrivateMounts.create({
      wrappers: Object.fromEntries(
        ["iptables-nft-restore", "ip6tables-nft-restore"]
          .map((n) => [`/usr/sbin/${n}`, restore(n)]),
      ),
    });
    try {
      await h.mnt.sh(mounts.script(await Deno.readLink("/proc/self/ns/mnt")));
      assertOk(await h.cli(["install", ...A, "--confirm-timeout", "2s"]), "install A");
      const applied = await kernel(h);
      const pending = await record(h);
      await Deno.writeTextFile(`${mounts.dir}/state/armed`, "");
      await until("the watcher exited", () => Promise.resolve(!alive(pending!.watcherPid!)));
      const log = await Deno.readTextFile(h.path(LOG));
      assertStringIncludes(log, "putting the previous rules back FAILED; the record is kept");
      assertEquals(await kernel(h), applied, "nothing was put back");
      assert((await record(h)) !== null, "the record is kept while our new rules remain");

      const status = await h.cli(["status", ...A]);
      assertStringIncludes(status.stdout, "Pending confirmation: overdue since");
      const json = await h.cli(["status", ...A, "--json"]);
      const report = JSON.parse(json.stdout);
      assertEquals(validate(SCHEMA, report), [], json.stdout);
      assertEquals(report.pending.overdue, true);

      const failed = await h.cli(["confirm"]);
      assertEquals(failed.code, 1, failed.stderr);
      assertStringIncludes(failed.stderr, "the previous rules could not all be put back");
      assert((await record(h)) !== null, "still kept");

      await Deno.remove(`${mounts.dir}/state/armed`);
      const c = await h.cli(["confirm"]);
      assertEquals(c.code, 1, c.stderr);
      assertStringIncludes(c.stderr, "nothing was confirmed: the previous rules were put back");
      assertEquals(await record(h), null);
      // The failed attempts leave legacy's built-in tables instantiated in the netns, empty (no
      // rule, policy ACCEPT: no packet changes); everything else is exactly as before.
      const after = await kernel(h);
      for (const k of ["legacy/IPv4", "legacy/IPv6"]) {
        assert(!/^-A /m.test(after[k] as string), `${k}: ${after[k]}`);
        assert(!/^:\S+ (DROP|REJECT)/m.test(after[k] as string), `${k}: ${after[k]}`);
        after[k] = before[k];
      }
      assertEquals(after, before, "the exact previous kernel state");
    } finally {
      await mounts.destroy();
    }
  });
});

Deno.test("install --confirm-timeout refuses before any change when /run/kuma-tproxy is read-only or full", async () => {
  await withHost(async (h) => {
    await prepare(h.world, "nft");
    assertOk(await h.cli(["install", ...B, "--store-systemd"]), "install B");
    const before = { kernel: await kernel(h), files: await bootFiles(h) };
    for (
      const [what, mount] of [
        ["read-only", "mount -o remount,ro /run/kuma-tproxy"],
        // One page: the lock fits, a record with the saves does not.
        [
          "full",
          "umount /run/kuma-tproxy; mount -t tmpfs -o mode=0700,size=4k tmpfs /run/kuma-tproxy",
        ],
      ]
    ) {
      await h.mnt.sh(mount);
      const r = await h.cli(["install", ...A, "--store-systemd", "--confirm-timeout", "1h"]);
      assertEquals(r.code, 1, `${what}: ${r.stdout}${r.stderr}`);
      assertStringIncludes(r.stderr, "nothing was changed", what);
      // The record's write fails as such: never a record cut short at the end of the space.
      assertStringIncludes(
        r.stderr,
        `cannot write ${RECORD} (${what === "full" ? "No space left" : "Read-only file system"}`,
      );
      assertEquals(r.stderr.trim().split("\n").at(-1)!.startsWith("kuma-tproxy: "), true, r.stderr);
      assertEquals(await record(h), null, what);
      assertEquals(await kernel(h), before.kernel, `${what}: the kernel as it was`);
      assertEquals(await bootFiles(h), before.files, `${what}: the boot files as they were`);
    }
  });
});

Deno.test("install --confirm-timeout whose own rollback fails keeps the record: confirm puts the rules back", async () => {
  await withHost(async (h) => {
    await prepare(h.world, "nft");
    const quick = ["--max-retries", "0"];
    assertOk(await h.cli(["install", ...B, ...quick]), "install B");
    const before = await kernel(h);
    // Armed: IPv4's apply goes through, IPv6's apply fails, and so does IPv4's rollback after it.
    const mounts = await PrivateMounts.create({
      wrappers: {
        "/usr/sbin/iptables-nft-restore":
          `if [ -e "$STATE/armed" ] && [[ " $* " == *" --noflush "* && " $* " != *" --test "* ]]; then
  [ -e "$STATE/v4" ] && { echo "iptables-nft-restore: armed to fail" >&2; exit 1; }
  touch "$STATE/v4"
fi
exec /usr/sbin/xtables-nft-multi iptables-nft-restore "$@"`,
        "/usr/sbin/ip6tables-nft-restore":
          `if [ -e "$STATE/armed" ] && [[ " $* " == *" --noflush "* && " $* " != *" --test "* ]]; then
  echo "ip6tables-nft-restore: armed to fail" >&2; exit 1
fi
exec /usr/sbin/xtables-nft-multi ip6tables-nft-restore "$@"`,
      },
    });
    try {
      await h.mnt.sh(mounts.script(await Deno.readLink("/proc/self/ns/mnt")));
      await Deno.writeTextFile(`${mounts.dir}/state/armed`, "");
      const r = await h.cli(["install", ...A, ...quick, "--confirm-timeout", "1h"]);
      assertEquals(r.code, 1, r.stderr);
      assertStringIncludes(r.stderr, "IPv4 rollback failed");
      assertNotEquals(await kernel(h), before, "IPv4 holds the new rules");
      const pending = await record(h);
      assert(pending !== null, "the record stays while the new rules do");
      assertStringIncludes(r.stderr, "putting the previous rules back FAILED; the record is kept");

      await Deno.remove(`${mounts.dir}/state/armed`);
      const c = await h.cli(["confirm"]);
      assertEquals(c.code, 1, c.stderr);
      assertStringIncludes(c.stderr, "the previous rules were put back");
      assertEquals(await record(h), null);
      assertEquals(await kernel(h), before, "the exact previous kernel state");
      await until("the watcher exited", () => Promise.resolve(!alive(pending!.watcherPid!)));
    } finally {
      await mounts.destroy();
    }
  });
});
