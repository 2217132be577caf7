/**
 * The baked-in permission set is sufficient (issue 6): the whole CLI runs
 * under `deno run` with exactly the flags of scripts/permissions.txt (what
 * scripts/compile.ts bakes into the binary) through install, status and
 * uninstall on a host with a real firewalld reached over D-Bus at the
 * production socket path (../world/firewalld_host.ts), and with firewalld
 * stopped (direct.xml under /etc/firewalld). Every run must succeed with no
 * permission error on stderr.
 *
 * A bus that Deno refuses to open reads as "firewalld not running", so the
 * D-Bus runs also check that the CLI reports the D-Bus mechanism.
 *
 * Needs root, `ip netns`, unshare/nsenter and firewalld (run with --allow-all).
 */
import { assertEquals, assertStringIncludes } from "../assert.ts";
import { parsePermissions } from "../../scripts/compile.ts";
import { withFirewalldHost } from "../world/firewalld_host.ts";
import { REPO_ROOT } from "./cli_run.ts";

const PERMISSIONS = parsePermissions(
  await Deno.readTextFile(`${REPO_ROOT}/scripts/permissions.txt`),
);
/** The CLI from source with exactly the binary's permissions. */
const DENO_RUN = [
  Deno.execPath(),
  "run",
  "--quiet",
  "--no-prompt",
  "--frozen",
  ...PERMISSIONS,
  `${REPO_ROOT}/src/main.ts`,
];
/** What Deno prints when a permission is missing (NotCapable: Requires run access to "x", ...). */
const PERMISSION_ERROR = /NotCapable|PermissionDenied|Requires \w+ access|--allow-[a-z]+/;

function assertClean(r: { code: number; stdout: string; stderr: string }, what: string, code = 0) {
  assertEquals(r.code, code, `${what} exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
  assertEquals(PERMISSION_ERROR.exec(r.stderr), null, `${what}: permission error:\n${r.stderr}`);
}

Deno.test("scripts/kuma-tproxy runs src/main.ts with exactly scripts/permissions.txt", async () => {
  // A copy of the launcher next to a stand-in `deno` that prints its argv.
  const dir = await Deno.makeTempDir({ prefix: "ktp-launcher-" });
  try {
    await Deno.mkdir(`${dir}/scripts`);
    await Deno.copyFile(`${REPO_ROOT}/scripts/kuma-tproxy`, `${dir}/scripts/kuma-tproxy`);
    await Deno.copyFile(`${REPO_ROOT}/scripts/permissions.txt`, `${dir}/scripts/permissions.txt`);
    await Deno.writeTextFile(`${dir}/scripts/deno`, `#!/bin/sh\nprintf '%s\\n' "$@"\n`);
    await Deno.chmod(`${dir}/scripts/deno`, 0o755);
    const out = await new Deno.Command(`${dir}/scripts/kuma-tproxy`, {
      args: ["status", "--json"],
      stdout: "piped",
    }).output();
    assertEquals(out.code, 0);
    const argv = new TextDecoder().decode(out.stdout).trimEnd().split("\n");
    assertEquals(argv, [
      ...DENO_RUN.slice(1, -1),
      `${dir}/src/main.ts`,
      "status",
      "--json",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "permissions.txt suffices for install, status and uninstall with firewalld over D-Bus",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withFirewalldHost({ rfc3964Ipv4: false }, async (h) => {
      // The host gets a cleared environment: without DENO_DIR, this plain
      // `deno run` would look for the npm packages in $HOME's cache, which a
      // fresh machine does not have, and the netns cannot download them.
      const denoDir = { DENO_DIR: Deno.env.get("DENO_DIR") ?? `${REPO_ROOT}/.tools/deno_dir` };
      const cli = (args: string[], env?: Record<string, string>) =>
        h.cli(args, { command: DENO_RUN, env: { ...denoDir, ...env } });
      // The standard variable, naming the production path the flags allow.
      const busEnv = { DBUS_SYSTEM_BUS_ADDRESS: "unix:path=/run/dbus/system_bus_socket" };
      assertEquals(await h.firewalld.start(), "running");

      // dbus-next's own default address (/var/run/dbus/system_bus_socket).
      const install = await cli(["install", "--store-firewalld"]);
      assertClean(install, "install --store-firewalld");
      assertStringIncludes(install.stdout, "firewalld (D-Bus): stored");
      const status = await cli(["status"], busEnv);
      assertClean(status, "status");
      assertStringIncludes(status.stdout, "Persistence (firewalld, RUNNING): stored");
      const uninstall = await cli(["uninstall"], busEnv);
      assertClean(uninstall, "uninstall");
      assertStringIncludes(uninstall.stdout, "firewalld (D-Bus): removed");

      // firewalld stopped: the tool writes /etc/firewalld/direct.xml itself.
      await h.firewalld.stop();
      const stored = await cli(["install", "--store-firewalld"]);
      assertClean(stored, "install --store-firewalld, firewalld stopped");
      assertStringIncludes(stored.stdout, "firewalld (/etc/firewalld/direct.xml): stored");
      assertClean(await cli(["status"]), "status, firewalld stopped");
      const removed = await cli(["uninstall"]);
      assertClean(removed, "uninstall, firewalld stopped");
      assertStringIncludes(removed.stdout, "firewalld (/etc/firewalld/direct.xml): removed");
      assertClean(await cli(["status"]), "status after uninstall", 4);
    }),
});
