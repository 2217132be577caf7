/**
 * Which paths a config promises, and the probe that proves each: pure, from
 * the config, the kuma-dp UID and the planned families to a list of probes
 * and a list of what cannot be checked from this host, with the reason.
 *
 * Every probe goes to a documentation address (RFC 5737 for IPv4, RFC 3849
 * for IPv6): nothing on any network answers there, so a connection that is
 * accepted can only have been accepted on this host, through a redirect.
 *
 * @module
 */
import type { Config, IpNet } from "../config/types.ts";
import { ipv4Bytes, ipv6Groups } from "../net/ip.ts";

export type Family = 4 | 6;

/**
 * The addresses probes use, in order of preference. They are also the only
 * remote addresses scripts/permissions.txt lets the tool connect to, besides
 * port 53 of IPv4 nameservers (the probes of {@link RESOLV_CONF}'s).
 */
export const DOC_ADDRESSES: Record<Family, readonly string[]> = {
  4: ["192.0.2.1", "198.51.100.1", "203.0.113.1"],
  6: ["2001:db8::1"],
};

/** Ports an outbound probe prefers, when no include list names one. 53 is left out (DNS rules). */
const PREFERRED_PORTS = [80, 443, 8080, 9, 1234];

/** The UIDs verify may send "application" traffic as: nobody first. */
const APP_UID_CANDIDATES = [65534, 65533, 65532, 4242];

export interface Probe {
  /** The path's name, as the report prints it: "outbound IPv4", "kuma-dp direct IPv6". */
  path: string;
  family: Family;
  proto: "tcp" | "udp";
  /** Who sends it: an application UID or kuma-dp's. */
  sender: "app" | "kuma-dp";
  addr: string;
  port: number;
  /** `redirect`: must land on `redirectPort`; `direct`: must not land on it. */
  expect: "redirect" | "direct";
  /** The redirect port the probe lands on if redirected (outbound or DNS). */
  redirectPort: number;
  /**
   * The destination answers by itself (a real nameserver), so an answer
   * proves the redirect only when verify's own listener saw the probe.
   */
  answersDirect?: boolean;
}

export interface Unchecked {
  path: string;
  reason: string;
}

export interface ProbePlan {
  appUid: number;
  kumaDpUid: number;
  probes: Probe[];
  unchecked: Unchecked[];
}

export interface PathInputs {
  config: Config;
  kumaDpUid: number;
  /** The families install configures on this host. */
  families: Family[];
  /** Families the config asks for that the host does not get, and why. */
  skipped: { family: Family; reason: string }[];
  /** The nameservers processes on this host use (RESOLV_CONF), or why they could not be read. */
  resolvConf: { nameservers: string[] } | { error: string };
}

/** The file the C library reads its nameservers from (resolv.conf(5)). */
export const RESOLV_CONF = "/etc/resolv.conf";

/** The only IPv4 addresses and port Deno lets verify send DNS to (scripts/permissions.txt). */
const DNS_GRANT = "port 53 of every IPv4 address (0.0.0.0/0:53)";

/** Whether `addr` lies in `net` (an address or CIDR of the same family). */
export function contains(net: IpNet, addr: string): boolean {
  const [base, lenText] = net.text.split("/");
  const bits = (text: string): number[] | undefined => {
    if (net.family === 4) return ipv4Bytes(text)?.flatMap((b) => byteBits(b, 8));
    return ipv6Groups(text)?.flatMap((g) => byteBits(g, 16));
  };
  const a = bits(addr);
  const b = bits(base);
  if (!a || !b) return false;
  const len = lenText === undefined ? a.length : Number(lenText);
  for (let i = 0; i < len; i++) if (a[i] !== b[i]) return false;
  return true;
}

function byteBits(value: number, width: number): number[] {
  return [...Array(width)].map((_, i) => (value >> (width - 1 - i)) & 1);
}

const name = (f: Family) => `IPv${f}`;

/** The first UID that is neither kuma-dp's nor named by an outbound UID exclusion. */
export function appUid(config: Config, kumaDpUid: number): number {
  const excluded = (uid: number) =>
    config.redirect.outbound.excludePortsForUIDs.some((e) =>
      uid >= e.uids.from && uid <= e.uids.to
    );
  return APP_UID_CANDIDATES.find((u) => u !== kumaDpUid && !excluded(u)) ?? 4242;
}

/** The port an outbound probe uses: the first included one, else a common one not excluded. */
export function outboundPort(config: Config): number | undefined {
  const out = config.redirect.outbound;
  const candidates = out.includePorts.length > 0 ? out.includePorts : PREFERRED_PORTS;
  return candidates.find((p) => p !== 53 && !out.excludePorts.includes(p));
}

/** Every probe the config calls for, and what is left unchecked. */
export function planProbes(input: PathInputs): ProbePlan {
  const { config, kumaDpUid } = input;
  const out = config.redirect.outbound;
  const dns = config.redirect.dns;
  const probes: Probe[] = [];
  const unchecked: Unchecked[] = [];
  const port = outboundPort(config);

  for (const s of input.skipped) {
    unchecked.push({ path: `all ${name(s.family)} paths`, reason: s.reason });
  }
  for (const f of input.families) {
    const nets = out.excludePortsForIPs.filter((n) => n.family === f);
    const free = DOC_ADDRESSES[f].find((a) => !nets.some((n) => contains(n, a)));
    const excludedAddr = DOC_ADDRESSES[f].find((a) => nets.some((n) => contains(n, a)));
    const tcp = (
      path: string,
      sender: Probe["sender"],
      addr: string,
      p: number,
      expect: Probe["expect"],
    ) =>
      probes.push({
        path,
        family: f,
        proto: "tcp",
        sender,
        addr,
        port: p,
        expect,
        redirectPort: out.port,
      });

    if (!out.enabled) {
      unchecked.push({ path: `outbound ${name(f)}`, reason: "outbound redirection is off" });
    } else if (port === undefined || free === undefined) {
      unchecked.push({
        path: `outbound ${name(f)}`,
        reason: port === undefined
          ? "every port verify could probe is excluded"
          : `every documentation address (${DOC_ADDRESSES[f].join(", ")}) is excluded`,
      });
    } else {
      tcp(`outbound ${name(f)}`, "app", free, port, "redirect");
      tcp(`kuma-dp direct ${name(f)}`, "kuma-dp", free, port, "direct");
      const excludedPort = out.excludePorts.find((p) => p !== 53 && p !== 0);
      if (excludedPort !== undefined && out.includePorts.length === 0) {
        tcp(`excluded port ${excludedPort} ${name(f)}`, "app", free, excludedPort, "direct");
      }
      if (excludedAddr !== undefined) {
        tcp(`excluded address ${excludedAddr}`, "app", excludedAddr, port, "direct");
      } else if (nets.length > 0) {
        unchecked.push({
          path: `excluded addresses ${name(f)}`,
          reason:
            "none lies in the documentation ranges, and a probe to a real address could be answered by it",
        });
      }
    }
    if (dns.enabled) {
      const path = `DNS ${name(f)}`;
      if (dns.captureAll) {
        probes.push({
          path,
          family: f,
          proto: "udp",
          sender: "app",
          addr: DOC_ADDRESSES[f][0],
          port: 53,
          expect: "redirect",
          redirectPort: dns.port,
        });
      }
      const nameservers = "nameservers" in input.resolvConf
        ? input.resolvConf.nameservers.filter((ns) => familyOf(ns) === f)
        : [];
      for (const ns of new Set(nameservers.map(plainAddress))) {
        dnsToNameserver(ns, f, dns, probes, unchecked);
      }
      if (!dns.captureAll && nameservers.length === 0) {
        unchecked.push({
          path,
          reason: "error" in input.resolvConf
            ? `cannot read ${RESOLV_CONF}: ${input.resolvConf.error}`
            : `${RESOLV_CONF} names no ${
              name(f)
            } nameserver, and only queries to its nameservers are redirected`,
        });
      }
    }
  }

  if (config.redirect.inbound.enabled) {
    unchecked.push({
      path: "inbound",
      reason:
        "inbound redirection needs packets from another host; `kuma-tproxy status` compares the installed inbound rules with the config",
    });
  }
  if (out.enabled && out.excludePortsForUIDs.length > 0) {
    unchecked.push({
      path: "UID exclusions",
      reason: "verify sends as kuma-dp and as one other user only",
    });
  }
  if (config.redirect.vnet.networks.length > 0) {
    unchecked.push({ path: "vnet networks", reason: "they concern traffic from other interfaces" });
  }
  return { appUid: appUid(config, kumaDpUid), kumaDpUid, probes, unchecked };
}

/** The family of a resolv.conf entry (an IPv4-mapped IPv6 address is IPv4, as in the rules), if an address. */
function familyOf(entry: string): Family | undefined {
  const plain = plainAddress(entry);
  if (ipv4Bytes(plain)) return 4;
  if (ipv6Groups(plain)) return 6;
  return undefined;
}

/** `::ffff:10.0.0.53` as `10.0.0.53`; anything else as written. */
function plainAddress(entry: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(entry);
  return mapped ? mapped[1] : entry;
}

/**
 * A query to one nameserver of resolv.conf must land on the DNS port. An
 * IPv6 nameserver cannot be probed: Deno's --allow-net has a form for every
 * IPv4 address on one port (a CIDR), none for IPv6 (Deno 2.9).
 */
function dnsToNameserver(
  ns: string,
  f: Family,
  dns: Config["redirect"]["dns"],
  probes: Probe[],
  unchecked: Unchecked[],
): void {
  const path = `DNS to nameserver ${ns}`;
  if (f === 6) {
    unchecked.push({
      path,
      reason: `verify may send DNS to ${DNS_GRANT} only (its Deno permissions have no IPv6 range)`,
    });
    return;
  }
  probes.push({
    path,
    family: f,
    proto: "udp",
    sender: "app",
    addr: ns,
    port: 53,
    expect: "redirect",
    redirectPort: dns.port,
    answersDirect: true,
  });
  if (ns.startsWith("127.") && !dns.captureAll) {
    unchecked.push({
      path: `DNS from the local resolver ${ns}`,
      reason: `checked: an application's query to ${ns} lands on port ${dns.port}; ` +
        "not checked: the resolver's own queries to its upstream servers (systemd-resolved: " +
        "`resolvectl dns`), which go direct unless --redirect-all-dns-traffic",
    });
  }
}
