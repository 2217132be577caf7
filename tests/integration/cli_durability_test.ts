/**
 * Our files survive a power cut whole (issue 22 item 7): each is written to
 * a temporary name, fsynced, renamed, and then its directory is fsynced, so
 * the rename itself reaches the disk; and the temporary files a killed run
 * left beside direct.xml are removed by the next run that writes it.
 *
 * The directory fsync is seen with strace (`-y` names each fd's path); the
 * stale temporary file is planted as a SIGKILL would leave it.
 *
 * Needs root, `ip netns`, unshare/nsenter, strace and firewalld (run with --allow-all).
 */
import { assert, assertEquals } from "../assert.ts";
import { withFirewalldHost } from "../world/firewalld_host.ts";
import { KUMA_TPROXY } from "./cli_run.ts";

const FOREIGN = Deno.readTextFileSync(
  new URL("../testdata/firewalld/foreign_valid.xml", import.meta.url),
);
const test = (name: string, fn: () => Promise<void>) =>
  Deno.test({ name, sanitizeResources: false, sanitizeOps: false, fn });

/** The CLI under strace: renames, removals and fsyncs, each fd with its path. */
function straced(log: string): string[] {
  return [
    "strace",
    "-f",
    "-qq",
    "-y",
    "-e",
    "trace=rename,renameat,renameat2,unlink,unlinkat,fsync,fdatasync",
    "-o",
    log,
    KUMA_TPROXY,
  ];
}

/**
 * Asserts that after the last rename onto (or removal of) `path`, the
 * directory `dir` was fsynced.
 */
function assertDirSyncedAfter(trace: string, path: string, dir: string, what: string) {
  const lines = trace.split("\n");
  const changed = lines.findLastIndex((l) =>
    /\b(rename|renameat2?|unlink|unlinkat)\(/.test(l) && l.includes(`"${path}"`)
  );
  assert(changed >= 0, `${what}: no rename or removal of ${path} in:\n${trace}`);
  const synced = lines.slice(changed + 1).some((l) =>
    new RegExp(`\\bf(data)?sync\\(\\d+<${dir.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}>\\)`).test(l)
  );
  assert(synced, `${what}: ${dir} not fsynced after ${lines[changed]}:\n${trace}`);
}

test("direct.xml: a stale temporary file of ours is removed, the directory fsynced after the rename", () =>
  withFirewalldHost({ directXml: FOREIGN, rfc3964Ipv4: false }, async (h) => {
    const fw = h.firewalld;
    const stale = `${fw.configDir}/.direct.xml.kuma-tproxy-0badc0de.tmp`;
    // Not ours (other names), so they stay.
    const kept = [
      `${fw.configDir}/.direct.xml.kuma-tproxy-notahex!.tmp`,
      `${fw.configDir}/.zones.xml.kuma-tproxy-0badc0de.tmp`,
    ];
    // What a run killed between writing and renaming leaves.
    await Deno.writeTextFile(stale, FOREIGN.slice(0, 40));
    for (const k of kept) await Deno.writeTextFile(k, "x");
    const log = `${fw.dir}/strace.log`;
    const install = await h.cli(["install", "--store-firewalld"], { command: straced(log) });
    assertEquals(install.code, 0, install.stdout + install.stderr);
    assertEquals(await exists(stale), false, "the stale temporary file is gone");
    for (const k of kept) assert(await exists(k), `${k} stays`);
    assertDirSyncedAfter(
      await Deno.readTextFile(log),
      "/etc/firewalld/direct.xml",
      "/etc/firewalld",
      "install",
    );

    const uninstall = await h.cli(["uninstall"], { command: straced(log) });
    assertEquals(uninstall.code, 0, uninstall.stdout + uninstall.stderr);
    assertDirSyncedAfter(
      await Deno.readTextFile(log),
      "/etc/firewalld/direct.xml",
      "/etc/firewalld",
      "uninstall",
    );
  }));

test("--store-systemd: the unit's and the config's directories are fsynced after the renames and removals", () =>
  withFirewalldHost({ installed: false }, async (h) => {
    const dir = await Deno.makeTempDir({ prefix: "ktp-strace-" });
    try {
      const log = `${dir}/strace.log`;
      const install = await h.cli(["install", "--store-systemd"], { command: straced(log) });
      assertEquals(install.code, 0, install.stdout + install.stderr);
      let trace = await Deno.readTextFile(log);
      for (
        const [path, parent] of [
          ["/etc/systemd/system/kuma-tproxy.service", "/etc/systemd/system"],
          ["/etc/kuma-tproxy/boot.yaml", "/etc/kuma-tproxy"],
        ]
      ) assertDirSyncedAfter(trace, path, parent, "install");

      const uninstall = await h.cli(["uninstall"], { command: straced(log) });
      assertEquals(uninstall.code, 0, uninstall.stdout + uninstall.stderr);
      trace = await Deno.readTextFile(log);
      assertDirSyncedAfter(
        trace,
        "/etc/systemd/system/kuma-tproxy.service",
        "/etc/systemd/system",
        "uninstall",
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }));

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}
