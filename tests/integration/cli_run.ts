/**
 * Runs the real CLI (`scripts/kuma-tproxy`: src/main.ts under the binary's
 * own permissions) the way a user would: in a network namespace, as root or
 * another user, with only the environment, files and stdin a test gives it.
 * Shared by the CLI, goldens, traffic and demo tests.
 */
import type { Case } from "../cases.ts";
import type { Netns } from "../world/netns.ts";
import { ensureUser } from "../world/users.ts";
import { writeStdin } from "../../src/os/runner.ts";
import { PYTHON } from "../world/process.ts";

/** The checkout this file belongs to (so a copy of the repo tests itself). */
export const REPO_ROOT = decodeURIComponent(new URL("../../", import.meta.url).pathname)
  .replace(/\/$/, "");
export const KUMA_TPROXY = `${REPO_ROOT}/scripts/kuma-tproxy`;

/** What a CLI run left behind. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** Namespace to run in; without one the CLI must not touch iptables (dry run, --help). */
  netns?: Netns | string;
  /** Extra environment; the run gets only PATH and HOME besides. */
  env?: Record<string, string>;
  stdin?: string;
  /**
   * Run as this UID (via setpriv) instead of root, with nothing else changed:
   * the runner must work for any user as it is (issue 13 item 6).
   */
  uid?: number;
  /** An argv prefix that enters a private mount namespace first (`MountNs.argv`). */
  mountNs?: string[];
  /** Where the CLI's stdout goes instead of the test: see {@linkcode stdoutTo}. */
  stdout?: LostStdout;
  /** stderr to a full device instead of the test. */
  stderr?: "/dev/full";
}

/** A stdout that cannot be written: a pipe nobody reads, or a full device. */
export type LostStdout = "closed pipe" | "/dev/full";

/**
 * An argv prefix that runs the rest with a lost stdout. The pipe's read end
 * is closed before the CLI starts, so its first write fails with EPIPE
 * every time (`| true` or `| head` would race with the reader's exit).
 */
export function stdoutTo(lost: LostStdout): string[] {
  return lost === "/dev/full" ? ["sh", "-c", 'exec "$@" > /dev/full', "sh"] : [
    PYTHON,
    "-c",
    "import os, subprocess, sys\n" +
    "r, w = os.pipe()\nos.close(r)\nsys.exit(subprocess.call(sys.argv[1:], stdout=w))",
  ];
}

const decoder = new TextDecoder();

/** Runs `kuma-tproxy ...args` and returns its exit code and both streams. */
export async function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  const ns = typeof options.netns === "string" ? options.netns : options.netns?.name;
  const argv = [
    ...(options.mountNs ?? []),
    ...(ns ? ["ip", "netns", "exec", ns] : []),
    ...(options.stdout ? stdoutTo(options.stdout) : []),
    ...(options.stderr ? ["sh", "-c", 'exec "$@" 2> /dev/full', "sh"] : []),
    ...(options.uid === undefined
      ? []
      : ["setpriv", `--reuid=${options.uid}`, `--regid=${options.uid}`, "--clear-groups", "--"]),
    KUMA_TPROXY,
    ...args,
  ];
  const env: Record<string, string> = {
    PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    HOME: Deno.env.get("HOME") ?? "/root",
    ...options.env,
  };
  const child = new Deno.Command(argv[0], {
    args: argv.slice(1),
    cwd: REPO_ROOT,
    // Only what the test names: a KUMA_* variable of the developer's shell
    // must not change what the CLI resolves.
    clearEnv: true,
    env,
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // The CLI may stop reading early (past its input limit) and close the pipe.
  if (options.stdin !== undefined) await writeStdin(child, options.stdin);
  return cliResult(await child.output());
}

/** A finished command's exit code and output as text. */
export function cliResult(out: Deno.CommandOutput): CliResult {
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

/**
 * Gives the namespace a non-loopback IPv6 address, so the CLI plans IPv6 as
 * on a dual-stack host. A veth pair inside the namespace rather than a dummy
 * interface: containers often lack the dummy module. `nodad`: usable at once.
 */
export async function addIPv6(ns: Netns): Promise<void> {
  await ns.exec("ip", ["link", "add", "ktp-v6a", "type", "veth", "peer", "name", "ktp-v6b"]);
  await ns.exec("ip", ["link", "set", "ktp-v6a", "up"]);
  await ns.exec("ip", ["link", "set", "ktp-v6b", "up"]);
  await ns.exec("ip", ["-6", "addr", "add", "fd00:5::1/64", "dev", "ktp-v6a", "nodad"]);
}

/** Makes sure the kuma-dp user (UID 5678) exists: the cases name it. */
export function ensureKumaDp(): Promise<void> {
  return ensureUser("kuma-dp", 5678);
}

/** A case's command line made runnable: its files in a temp dir, flags pointing at them. */
export interface CaseInvocation {
  flags: string[];
  env: Record<string, string>;
  stdin?: string;
  /** Removes the temp dir. */
  cleanup(): Promise<void>;
}

/**
 * Writes a case's files (and resolv.conf) to a temp dir and rewrites the
 * flags that name them (`/1.yaml` → `<tmp>/1.yaml`), so a case never writes
 * outside the temp dir.
 */
export async function caseInvocation(c: Case): Promise<CaseInvocation> {
  const dir = await Deno.makeTempDir({ prefix: "ktp-case-" });
  const moved = new Map<string, string>();
  for (const [path, text] of Object.entries(c.files ?? {})) {
    const to = `${dir}/${path.replace(/^\/+/, "").replaceAll("/", "_")}`;
    await Deno.writeTextFile(to, text);
    moved.set(path, to);
  }
  const env = { ...c.env };
  if (c.resolvConf !== undefined) {
    await Deno.writeTextFile(`${dir}/resolv.conf`, c.resolvConf);
    env.KUMA_TRANSPARENT_PROXY_REDIRECT_DNS_RESOLV_CONFIG_PATH = `${dir}/resolv.conf`;
  }
  const flags = c.flags.map((f) => f.split(",").map((part) => moved.get(part) ?? part).join(","));
  return {
    flags,
    env,
    stdin: c.stdin,
    cleanup: () => Deno.remove(dir, { recursive: true }),
  };
}

/** Splits `install --dry-run` output into its `### IPv4 ###` / `### IPv6 ###` sections. */
export function splitDryRun(stdout: string): Partial<Record<4 | 6, string>> {
  const sections: Partial<Record<4 | 6, string>> = {};
  const parts = stdout.split(/^### IPv([46]) ###$/m);
  if (parts[0].trim() !== "") throw new Error(`text before the first section: ${parts[0]}`);
  for (let i = 1; i < parts.length; i += 2) {
    sections[Number(parts[i]) as 4 | 6] = parts[i + 1].trim() + "\n";
  }
  return sections;
}
