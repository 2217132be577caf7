/**
 * Which TCP ports something listens on, in the current network namespace.
 * Used by the lockout guards: redirecting inbound traffic while sshd listens
 * on 22, or before kuma-dp listens on the redirect ports, cuts connections.
 *
 * Read through `ss` rather than /proc/net/tcp: Deno refuses /proc reads
 * without --allow-all (since 1.43, GHSA-23rx-c3g5-hv9w), and the binary runs
 * with least privilege.
 */
import type { Runner } from "../os/runner.ts";

/** Local ports in `ss -H -l -t -n` output (`LISTEN 0 128 0.0.0.0:22 0.0.0.0:*`, `[::]:22`, `*:22`). */
export function parseListeningPorts(ssOutput: string): Set<number> {
  const ports = new Set<number>();
  for (const line of ssOutput.split("\n")) {
    const local = line.trim().split(/\s+/)[3];
    const m = local ? /:(\d+)$/.exec(local) : null;
    if (m) ports.add(Number(m[1]));
  }
  return ports;
}

/** Listening TCP ports, IPv4 and IPv6; empty (the guards stay quiet) if `ss` is missing or fails. */
export async function listeningTcpPorts(runner: Runner): Promise<Set<number>> {
  try {
    const r = await runner.run("ss", ["-H", "-l", "-t", "-n"]);
    return r.code === 0 ? parseListeningPorts(r.stdout) : new Set();
  } catch {
    return new Set();
  }
}
