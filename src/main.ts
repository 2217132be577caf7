/**
 * The only module that touches the process: arguments, streams, exit code,
 * signals. Everything below takes a CliIo and returns an exit code.
 */
import { cli } from "./cli/cli.ts";
import type { CliIo } from "./cli/io.ts";
import { ENV_PATHS } from "./config/keys.ts";
import { connectFirewalld } from "./firewalld/bus.ts";
import { SystemFacts } from "./host/system_facts.ts";
import { SystemRunner } from "./iptables/runner.ts";

const encoder = new TextEncoder();
const runner = new SystemRunner();

/**
 * The environment the config reads. Least privilege grants only the
 * KUMA_TRANSPARENT_PROXY_* variables, which cannot be listed through
 * Deno.env; /proc/self/environ can, so unknown (misspelt) names are still
 * reported. KUMA_TPROXY_DEBUG comes the same way.
 */
function readEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  try {
    for (const entry of Deno.readTextFileSync("/proc/self/environ").split("\0")) {
      const eq = entry.indexOf("=");
      if (eq > 0 && entry.startsWith("KUMA_")) env[entry.slice(0, eq)] = entry.slice(eq + 1);
    }
  } catch {
    // No /proc, or the binary's own permissions: Deno refuses /proc/self/environ
    // without --allow-all. Only the names read below are then seen, so a
    // misspelt variable goes unnoticed.
  }
  for (const name of [...ENV_PATHS.keys(), "KUMA_TPROXY_DEBUG"]) {
    if (name in env) continue;
    try {
      const value = Deno.env.get(name);
      if (value !== undefined) env[name] = value;
    } catch {
      // Not granted (KUMA_TPROXY_DEBUG under the binary's permissions).
    }
  }
  return env;
}

const io: CliIo = {
  out: (text) => Deno.stdout.writeSync(encoder.encode(text)),
  err: (text) => Deno.stderr.writeSync(encoder.encode(text)),
  env: readEnv(),
  readStdin: () => new Response(Deno.stdin.readable).text(),
  readFile: (path) => Deno.readTextFile(path),
  uid: () => Deno.uid() ?? -1,
  runner,
  facts: new SystemFacts(runner),
  connectFirewalld: () => connectFirewalld({ timeoutMs: 120_000 }),
  firewalldDir: "/etc/firewalld",
  onInterrupt(handler) {
    const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
    for (const s of signals) Deno.addSignalListener(s, handler);
    return () => signals.forEach((s) => Deno.removeSignalListener(s, handler));
  },
};

Deno.exit(await cli(Deno.args, io));
