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

/** A stand-in Deno that prints its path, DENO_DIR and arguments, one a line. */
const ECHO_DENO = `#!/bin/sh\nprintf '%s\\n' "$0" "DENO_DIR=$DENO_DIR" "$@"\n`;

/**
 * A copy of the launcher scripts in a temp directory with a stand-in for
 * `.tools/deno` (setup done) or for `scripts/deno` (setup not done), run with
 * an empty PATH: a launcher that started any program but Deno (dirname, grep)
 * would fail. Returns the stand-in's output lines.
 */
async function launch(
  dir: string,
  script: "kuma-tproxy" | "deno",
  args: string[],
): Promise<string[]> {
  const out = await new Deno.Command("/bin/bash", {
    args: [`${dir}/scripts/${script}`, ...args],
    clearEnv: true,
    env: { PATH: `${dir}/no-programs-here` },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assertEquals(out.code, 0, stderr);
  assertEquals(stderr, "");
  return new TextDecoder().decode(out.stdout).trimEnd().split("\n");
}

async function launcherCopy(setupDone: boolean): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "ktp-launcher-" });
  await Deno.mkdir(`${dir}/scripts`);
  for (const name of ["kuma-tproxy", "checkout.bash", "permissions.txt"]) {
    await Deno.copyFile(`${REPO_ROOT}/scripts/${name}`, `${dir}/scripts/${name}`);
  }
  if (setupDone) {
    await Deno.copyFile(`${REPO_ROOT}/scripts/deno`, `${dir}/scripts/deno`);
    await Deno.mkdir(`${dir}/.tools/deno_dir/npm`, { recursive: true });
    await Deno.writeTextFile(`${dir}/.tools/deno`, ECHO_DENO);
    await Deno.chmod(`${dir}/.tools/deno`, 0o755);
  } else {
    await Deno.writeTextFile(`${dir}/scripts/deno`, ECHO_DENO);
    await Deno.chmod(`${dir}/scripts/deno`, 0o755);
  }
  return dir;
}

Deno.test("scripts/kuma-tproxy runs src/main.ts with exactly scripts/permissions.txt", async () => {
  const argv = (
    dir: string,
  ) => [...DENO_RUN.slice(1, -1), `${dir}/src/main.ts`, "status", "--json"];
  // Setup not done: through scripts/deno, which would run scripts/setup.sh first.
  const fresh = await launcherCopy(false);
  try {
    assertEquals(await launch(fresh, "kuma-tproxy", ["status", "--json"]), [
      `${fresh}/scripts/deno`,
      "DENO_DIR=",
      ...argv(fresh),
    ]);
  } finally {
    await Deno.remove(fresh, { recursive: true });
  }
  // Setup done: .tools/deno directly, with the argv and DENO_DIR scripts/deno gives it.
  const ready = await launcherCopy(true);
  try {
    const viaDeno = [`${ready}/.tools/deno`, `DENO_DIR=${ready}/.tools/deno_dir`, ...argv(ready)];
    assertEquals(await launch(ready, "kuma-tproxy", ["status", "--json"]), viaDeno);
    assertEquals(await launch(ready, "deno", argv(ready)), viaDeno);
    // Started from another directory, with a relative path.
    const out = await new Deno.Command("/bin/bash", {
      args: ["../scripts/kuma-tproxy", "status", "--json"],
      cwd: `${ready}/.tools`,
      clearEnv: true,
      env: { PATH: `${ready}/no-programs-here` },
      stdout: "piped",
    }).output();
    assertEquals(new TextDecoder().decode(out.stdout).trimEnd().split("\n"), viaDeno);
  } finally {
    await Deno.remove(ready, { recursive: true });
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
