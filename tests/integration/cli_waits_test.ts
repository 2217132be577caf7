/**
 * No run waits without end (issue 22 item 6): a process that holds
 * /run/kuma-tproxy.lock for ever makes install, uninstall and status give
 * up after the configured wait, naming its PID; deleting the lock file
 * while a run holds it does not let the next run through; and a system bus
 * that accepts connections but never answers is not asked at all by a run
 * that does not need firewalld, and holds one that does only for the
 * probe's bound.
 *
 * Every trigger is deterministic: the holder says "held" on a pipe once it
 * has the lock, a PATH wrapper stops a run inside the lock on FIFOs, and the
 * silent bus is a socket that accepts and never reads.
 *
 * Needs root, `ip netns`, unshare/nsenter, util-linux flock and python3
 * (run with --allow-all).
 */
import { assert, assertEquals, assertStringIncludes } from "../assert.ts";
import { withFirewalldHost } from "../world/firewalld_host.ts";
import type { MountNs } from "../world/firewalld_host.ts";
import { type Netns, withNetns } from "../world/netns.ts";
import { ensureKumaDp, KUMA_TPROXY, REPO_ROOT, runCli } from "./cli_run.ts";
import { snapshot, tools } from "./iptables_fixtures.ts";

const LOCK = "/run/kuma-tproxy.lock";
const KUMA_DP = ["--kuma-dp-user", "5678"];
const decoder = new TextDecoder();

async function ours(ns: Netns): Promise<boolean> {
  return (await snapshot(ns, tools("nft", 4))).includes("KUMA_MESH");
}

/** Reads `child`'s stdout up to and including the first line; the rest stays in the reader. */
async function firstLine(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<string> {
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`ended before a line: ${JSON.stringify(text)}`);
    text += decoder.decode(value);
  }
  return text.slice(0, text.indexOf("\n"));
}

/**
 * Whether this util-linux's lslocks has the INODE and MAJ:MIN columns (2.37
 * and later) that name the lock's holder. Before (Debian 11, RHEL 8) the
 * holder is not named: its PATH column is ambiguous across mount
 * namespaces, and a wrong PID would be worse than none.
 */
async function lslocksKnowsInodes(): Promise<boolean> {
  // Asking for the column is the test: --help lists the columns only up to 2.40.
  const out = await new Deno.Command("lslocks", {
    args: ["--noheadings", "--output", "INODE"],
    stdout: "null",
    stderr: "null",
  }).output();
  return out.success;
}

Deno.test("a lock held for ever: install, uninstall and status give up after the wait and name the holder", async () => {
  await ensureKumaDp();
  // Holds the lock until its stdin closes; says so once it has it.
  const holder = new Deno.Command("flock", {
    args: [LOCK, "sh", "-c", "echo held; read x"],
    stdin: "piped",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const stdin = holder.stdin.getWriter();
  try {
    assertEquals(await firstLine(holder.stdout.getReader()), "held");
    await withNetns("lockwait", async (ns) => {
      const env = { KUMA_TPROXY_LOCK_TIMEOUT: "0.5" };
      for (
        const args of [["install", ...KUMA_DP], ["uninstall"], ["status", ...KUMA_DP]]
      ) {
        const r = await runCli(args, { netns: ns, env });
        assertEquals(r.code, 1, `${args[0]}: ${r.stdout}${r.stderr}`);
        assertStringIncludes(
          r.stderr,
          `another kuma-tproxy run holds ${LOCK}; waiting for it to finish (at most 0.5 s` +
            (await lslocksKnowsInodes() ? `; held by PID ${holder.pid} (flock))` : ")"),
          `${args[0]}: ${r.stderr}`,
        );
        assertStringIncludes(
          r.stderr,
          `kuma-tproxy: the lock on ${LOCK} was not released within 0.5 s`,
        );
        assertStringIncludes(r.stderr, "nothing was changed");
        assertEquals(await ours(ns), false, `${args[0]}: no rules`);
      }
      const bad = await runCli(["status"], { netns: ns, env: { KUMA_TPROXY_LOCK_TIMEOUT: "x" } });
      assertEquals(bad.code, 2, bad.stderr);
      assertStringIncludes(bad.stderr, 'KUMA_TPROXY_LOCK_TIMEOUT="x" is not a number of seconds');
    });
  } finally {
    await stdin.close();
    await holder.status;
  }
});

Deno.test("deleting the lock file while a run holds it does not let the next run through", async () => {
  await ensureKumaDp();
  const dir = await Deno.makeTempDir({ prefix: "ktp-lockdel-" });
  try {
    await Deno.chmod(dir, 0o755);
    for (const fifo of ["entered", "gate"]) {
      const out = await new Deno.Command("mkfifo", { args: [`${dir}/${fifo}`] }).output();
      assert(out.success, "mkfifo");
    }
    // The first install stops inside the lock, at its `ss`, until the test lets it go.
    await Deno.mkdir(`${dir}/bin`);
    await Deno.writeTextFile(
      `${dir}/bin/ss`,
      `#!/bin/sh\necho in > '${dir}/entered'\ncat '${dir}/gate' > /dev/null\n` +
        `PATH=/usr/sbin:/usr/bin:/sbin:/bin exec ss "$@"\n`,
    );
    await Deno.chmod(`${dir}/bin/ss`, 0o755);
    await withNetns("lockdel", async (ns) => {
      const first = new Deno.Command("ip", {
        args: ["netns", "exec", ns.name, KUMA_TPROXY, "install", ...KUMA_DP],
        cwd: REPO_ROOT,
        clearEnv: true,
        env: {
          PATH: `${dir}/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
          HOME: Deno.env.get("HOME") ?? "/root",
        },
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const output = first.output();
      let gate: Deno.FsFile | undefined;
      try {
        // Opening the FIFO for reading waits for the wrapper: the first run is inside the lock.
        assertEquals((await Deno.readTextFile(`${dir}/entered`)).trim(), "in");
        await Deno.remove(LOCK);
        const second = await runCli(["install", ...KUMA_DP], {
          netns: ns,
          env: { KUMA_TPROXY_LOCK_TIMEOUT: "0.5" },
        });
        assertEquals(second.code, 1, second.stdout + second.stderr);
        assertStringIncludes(second.stderr, "was not released within 0.5 s");
        // Not the first run's PID: other kuma-tproxy runs on this machine (the lock is
        // host-wide) may take the new lock file meanwhile; either way the run must wait.
        if (await lslocksKnowsInodes()) assertStringIncludes(second.stderr, "held by PID ");
        assertEquals(await ours(ns), false, "the second run changed nothing");
      } finally {
        gate = await Deno.open(`${dir}/gate`, { write: true });
        gate.close();
      }
      const out = await output;
      assertEquals(out.code, 0, decoder.decode(out.stderr));
      assert(await ours(ns), "the first run finished its install");
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/**
 * A socket at /run/dbus/system_bus_socket in `mnt` that accepts every
 * connection and never reads or answers; `accepted()` stops it and says how
 * many connections it took.
 */
async function silentBus(mnt: MountNs) {
  const script = `
import os, socket, sys
p = "/run/dbus/system_bus_socket"
if os.path.lexists(p): os.unlink(p)
s = socket.socket(socket.AF_UNIX)
s.bind(p)
s.listen(64)
print("listening", flush=True)
held = []
while True:
    c, _ = s.accept()
    held.append(c)
    print("accepted", flush=True)
`;
  const child = new Deno.Command(mnt.argv[0], {
    args: [...mnt.argv.slice(1), "/usr/bin/python3", "-c", script],
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.getReader();
  assertEquals(await firstLine(reader), "listening");
  return {
    async accepted(): Promise<number> {
      child.kill("SIGKILL");
      let rest = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        rest += decoder.decode(value);
      }
      await child.status;
      return rest.split("\n").filter((l) => l === "accepted").length;
    },
  };
}

Deno.test({
  name: "a silent system bus: a host without firewalld never asks it, both backends",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withFirewalldHost({ installed: false }, async (h) => {
      const bus = await silentBus(h.mnt);
      let accepted = -1;
      try {
        const nft = ["--backend", "nftables"];
        for (const args of [["install"], ["install", ...nft], ["status", ...nft]]) {
          const r = await h.cli(args);
          assertEquals(r.code, 0, `${args.join(" ")}: ${r.stdout}${r.stderr}`);
        }
        assertEquals((await h.cli(["uninstall"])).code, 0);
      } finally {
        accepted = await bus.accepted();
      }
      assertEquals(accepted, 0, "no run connected to the bus");
    }),
});

Deno.test({
  name:
    "a silent system bus where firewalld is installed: install waits only the probe's bound, --store-firewalld refuses",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withFirewalldHost({ rfc3964Ipv4: false }, async (h) => {
      await h.mnt.sh("umount /run/dbus/system_bus_socket && rm /run/dbus/system_bus_socket");
      const bus = await silentBus(h.mnt);
      const env = { KUMA_TPROXY_BUS_TIMEOUT: "0.5" };
      try {
        for (const backend of ["iptables", "nftables"]) {
          const r = await h.cli(["install", "--backend", backend], { env });
          assertEquals(r.code, 0, `${backend}: ${r.stdout}${r.stderr}`);
          assertStringIncludes(
            r.stderr,
            "D-Bus call org.freedesktop.DBus.NameHasOwner on unix:path=/var/run/dbus/system_bus_socket " +
              "got no reply within 0.5 s, so whether firewalld runs is unknown",
          );
        }
        const store = await h.cli(["install", "--store-firewalld"], { env });
        assertEquals(store.code, 1, store.stdout + store.stderr);
        assertStringIncludes(store.stderr, "Check the system bus");
        assertStringIncludes(store.stderr, "Nothing was changed.");
      } finally {
        assert((await bus.accepted()) > 0, "firewalld is installed: the bus was asked");
      }
    }),
});
