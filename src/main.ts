/**
 * The only module that touches the process: arguments, streams, exit code,
 * signals. Everything below takes a CliIo and returns an exit code.
 */
import type { CliIo } from "./cli/io.ts";
import { guardedOutput, settleOutput } from "./cli/output.ts";
import { VERSION } from "./version.ts";

// Writes never throw (a closed pipe, a full disk): cli() decides what a lost
// stdout means for the exit code (cli/output.ts).
const stdout = guardedOutput(Deno.stdout);
const stderr = guardedOutput(Deno.stderr);

// The sending side of `verify`, started by verify itself through setpriv as
// another UID (src/verify/run.ts): probes on stdin, results on stdout.
if (Deno.args.length === 1 && Deno.args[0] === "__verify-send") {
  const { sendAll } = await import("./verify/send.ts");
  const { readTextBounded } = await import("./os/bounded_read.ts");
  const specs = JSON.parse(await readTextBounded(Deno.stdin, "stdin", { maxBytes: 1024 * 1024 }));
  stdout.write(JSON.stringify(await sendAll(specs)) + "\n");
  Deno.exit(0);
}

// `--version` alone answers before anything else loads: the CLI's modules
// (commander, zod) cost several times a bare Deno start (bench/README.md).
// The output is the one commander prints for the same flags.
if (Deno.args.length === 1 && (Deno.args[0] === "--version" || Deno.args[0] === "-V")) {
  stdout.write(`${VERSION}\n`);
  const { code, message } = settleOutput(0, stdout.failure(), { outputIsResult: true });
  if (message) stderr.write(`kuma-tproxy: ${message}\n`);
  Deno.exit(code);
}

// Started before the imports, so that printenv runs while they load.
const printed = printKumaEnv();

const [
  { cli },
  { LOCK_PATH },
  { NFT_MARKER_PATH },
  { ENV_PATHS },
  { MAX_INPUT_BYTES, readTextBounded, readTextFileBounded },
  { SystemFacts },
  { SystemRunner },
  { selfCommand },
  { FIREWALLD_CALL_SECONDS, waitLimits },
] = await Promise.all([
  import("./cli/cli.ts"),
  import("./ops/run_lock.ts"),
  import("./ops/nft_marker.ts"),
  import("./config/keys.ts"),
  import("./os/bounded_read.ts"),
  import("./host/system_facts.ts"),
  import("./os/runner.ts"),
  import("./systemd/self_command.ts"),
  import("./ops/waits.ts"),
]);
const runner = new SystemRunner();

/** What `printenv -0` listed of the KUMA_* environment, and whether it listed all of it. */
interface PrintedEnv {
  env: Record<string, string>;
  complete: boolean;
}

/**
 * The KUMA_* environment: the config's KUMA_TRANSPARENT_PROXY_* variables and
 * KUMA_TPROXY_DEBUG. Least privilege grants only those names, and Deno can
 * list neither the environment (Deno.env.toObject needs every variable) nor
 * /proc/self/environ (refused without --allow-all since Deno 1.43). A child
 * `printenv -0` inherits the environment and can list it, so a misspelt
 * KUMA_TRANSPARENT_PROXY_* name is still reported; `printenv` cannot start
 * other programs, unlike `env`. Never rejects: {@link readEnv} falls back.
 */
async function printKumaEnv(): Promise<PrintedEnv> {
  const env: Record<string, string> = {};
  try {
    const out = await new Deno.Command("printenv", {
      args: ["-0"],
      stdout: "piped",
      stderr: "null",
    }).output();
    for (const entry of new TextDecoder().decode(out.stdout).split("\0")) {
      const eq = entry.indexOf("=");
      if (eq > 0 && entry.startsWith("KUMA_")) env[entry.slice(0, eq)] = entry.slice(eq + 1);
    }
    return { env, complete: out.success };
  } catch {
    // printenv missing or not granted.
    return { env, complete: false };
  }
}

/** The KUMA_* environment: all of it when printenv listed it, else only the known names. */
function readEnv({ env, complete }: PrintedEnv): Record<string, string> {
  if (complete) return env;
  for (const name of [...ENV_PATHS.keys(), "KUMA_TPROXY_DEBUG"]) {
    try {
      const value = Deno.env.get(name);
      if (value !== undefined) env[name] = value;
    } catch {
      // Not granted (KUMA_TPROXY_DEBUG under the binary's permissions).
    }
  }
  return env;
}

/** One line from the terminal, or undefined after `timeoutMs` (the read is then left pending). */
async function ask(question: string, timeoutMs: number): Promise<string | undefined> {
  stderr.write(question);
  const buf = new Uint8Array(1024);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<undefined>((ok) => timer = setTimeout(() => ok(undefined), timeoutMs));
  // A terminal that is gone (EIO) is no answer: the watcher decides.
  const n = await Promise.race([Deno.stdin.read(buf).catch(() => undefined), late]);
  clearTimeout(timer);
  if (n === undefined) {
    stderr.write("\n");
    return undefined;
  }
  return n === null ? "" : new TextDecoder().decode(buf.subarray(0, n));
}

const env = readEnv(await printed);
const io: CliIo = {
  out: stdout.write,
  err: stderr.write,
  outFailure: stdout.failure,
  env,
  readStdin: () => readTextBounded(Deno.stdin, "stdin", { maxBytes: MAX_INPUT_BYTES }),
  readFile: (path) => readTextFileBounded(path, { maxBytes: MAX_INPUT_BYTES }),
  uid: () => Deno.uid() ?? -1,
  runner,
  facts: new SystemFacts(runner),
  // Imported on first use; connect.ts loads dbus-next only when there is a bus socket.
  connectFirewalld: async () => {
    const { openFirewalld } = await import("./firewalld/connect.ts");
    const { DEFAULT_SYSTEM_BUS_ADDRESS } = await import("./firewalld/bus_api.ts");
    return openFirewalld({
      address: Deno.env.get("DBUS_SYSTEM_BUS_ADDRESS") || DEFAULT_SYSTEM_BUS_ADDRESS,
      timeoutMs: FIREWALLD_CALL_SECONDS * 1000,
      // Throws a usage error for a bad KUMA_TPROXY_BUS_TIMEOUT (the run lock has read it first).
      probeTimeoutMs: waitLimits(env).busProbeMs,
      allowedOnly: true,
    });
  },
  firewalldDir: "/etc/firewalld",
  boot: {
    unitDir: "/etc/systemd/system",
    configDir: "/etc/kuma-tproxy",
    runtimeDir: "/run/systemd/system",
  },
  selfCommand: selfCommand({
    standalone: Deno.build.standalone,
    execPath: Deno.execPath(),
    mainModule: import.meta.url,
  }),
  lockPath: LOCK_PATH,
  nftMarkerPath: NFT_MARKER_PATH,
  ...(Deno.stdin.isTerminal() ? { ask } : {}),
  onInterrupt(handler) {
    const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
    for (const s of signals) Deno.addSignalListener(s, handler);
    return () => signals.forEach((s) => Deno.removeSignalListener(s, handler));
  },
};

Deno.exit(await cli(Deno.args, io));
