/** Pure parsers for the host files that HostFacts reads. */
import type { UserEntry } from "./facts.ts";

/** `nameserver` addresses of a resolv.conf, in order; a `%zone` suffix is dropped. */
export function parseNameservers(text: string): string[] {
  const servers: string[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.replace(/[#;].*$/, "").trim();
    const m = /^nameserver\s+(\S+)/.exec(line);
    if (m) servers.push(m[1].replace(/%.*$/, ""));
  }
  return servers;
}

/** Entries of a passwd(5) file (or `getent passwd` output). Malformed lines are skipped. */
export function parsePasswd(text: string): UserEntry[] {
  const entries: UserEntry[] = [];
  for (const line of text.split("\n")) {
    const fields = line.split(":");
    if (fields.length < 4 || !/^\d+$/.test(fields[2])) continue;
    entries.push({ name: fields[0], uid: Number(fields[2]) });
  }
  return entries;
}

/** The first interface with the LOOPBACK flag in `ip -o link show` output (`1: lo: <LOOPBACK,UP,...>`). */
export function parseLoopback(ipLinkOutput: string): string | undefined {
  for (const line of ipLinkOutput.split("\n")) {
    const m = /^\d+:\s+([^:@\s]+)(?:@\S+)?:\s+<([^>]*)>/.exec(line);
    if (m && m[2].split(",").includes("LOOPBACK")) return m[1];
  }
  return undefined;
}
