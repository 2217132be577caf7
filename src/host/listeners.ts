/**
 * Which TCP ports something listens on, from /proc/net/tcp and tcp6 (the
 * current network namespace's view). Used by the lockout guards: redirecting
 * inbound traffic while sshd listens on 22, or before kuma-dp listens on the
 * redirect ports, cuts connections.
 */

/** TCP_LISTEN in the kernel's `st` column (include/net/tcp_states.h). */
const TCP_LISTEN = "0A";

/** Local ports of the LISTEN sockets in a /proc/net/tcp{,6} table. */
export function parseListeningPorts(table: string): Set<number> {
  const ports = new Set<number>();
  for (const line of table.split("\n").slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 4 || fields[3] !== TCP_LISTEN) continue;
    const port = parseInt(fields[1].split(":")[1], 16);
    if (Number.isInteger(port)) ports.add(port);
  }
  return ports;
}

/** Listening TCP ports of this network namespace, IPv4 and IPv6; empty if /proc is not readable. */
export async function listeningTcpPorts(
  read: (path: string) => Promise<string> = Deno.readTextFile,
): Promise<Set<number>> {
  const all = new Set<number>();
  for (const path of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    try {
      for (const p of parseListeningPorts(await read(path))) all.add(p);
    } catch {
      // No IPv6 table on IPv6-less kernels; nothing to add.
    }
  }
  return all;
}
