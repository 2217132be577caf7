/**
 * The traffic probes of the world (../world): one table of what each probe
 * sends and who answers when it goes direct or through the sidecar, run in
 * both families at once. Shared by the traffic tests and the boot
 * persistence tests, so "the world traffic tests pass again" means exactly
 * these probes.
 */
import type { Netns } from "../world/netns.ts";
import {
  APP_UID,
  DNS_ANSWERS,
  KUMA_DP_UID,
  NAMES,
  PORTS,
  sidecarReply,
  type World,
} from "../world/world.ts";
import { MODES, snapshot, tools } from "./iptables_fixtures.ts";

export type Family = 4 | 6;

/** A UID that only the exclusion names; setpriv needs no passwd entry for it. */
export const EXCLUDED_UID = 5680;
/** Extra peer addresses (on the peer's loopback, reached via the default route) to exclude by IP. */
export const EXCLUDED_IP: Record<Family, string> = { 4: "10.77.0.3", 6: "fd77::3" };

/** kumactl's executables flag, pointing at the legacy backend. */
export const LEGACY_FLAGS = [
  "--iptables-executables",
  ["iptables", "ip6tables"].flatMap((b) =>
    ["", "-save", "-restore"].map((t) => `${b}${t}:/usr/sbin/${b}-legacy${t}`)
  ).join(","),
];

/** One probe: how to send it, and what answers when it goes direct or to the sidecar. */
export interface Probe {
  run(w: World, f: Family): Promise<string>;
  direct(w: World, f: Family): string;
  redirected(w: World, f: Family): string;
}

const tcp = (
  side: "host" | "peer",
  uid: number | null,
  to: (w: World, f: Family) => string,
  port: number,
  server: string,
  sidecarPort: number,
): Probe => ({
  run: (w, f) => w.connect(side, uid, to(w, f), port),
  direct: () => server,
  redirected: (w, f) => sidecarReply(sidecarPort, to(w, f), port),
});

const dns = (uid: number): Probe => ({
  run: (w, f) => w.dnsQuery(uid, w.addr("peer", f), "svc.example"),
  direct: (_w, f) => f === 4 ? DNS_ANSWERS.upstreamA : DNS_ANSWERS.upstreamAAAA,
  redirected: (_w, f) => f === 4 ? DNS_ANSWERS.standinA : DNS_ANSWERS.standinAAAA,
});

const host = (w: World, f: Family) => w.addr("host", f);
const peer = (w: World, f: Family) => w.addr("peer", f);

export const PROBES = {
  "inbound to the app": tcp("peer", null, host, PORTS.hostApp, NAMES.hostApp, PORTS.inbound),
  "inbound to port 8081": tcp(
    "peer",
    null,
    host,
    PORTS.hostExcluded,
    NAMES.hostExcluded,
    PORTS.inbound,
  ),
  "outbound from the app": tcp(
    "host",
    APP_UID,
    peer,
    PORTS.peerService,
    NAMES.peerService,
    PORTS.outbound,
  ),
  "outbound from kuma-dp": tcp(
    "host",
    KUMA_DP_UID,
    peer,
    PORTS.peerService,
    NAMES.peerService,
    PORTS.outbound,
  ),
  "outbound to port 9091": tcp(
    "host",
    APP_UID,
    peer,
    PORTS.peerExcluded,
    NAMES.peerExcluded,
    PORTS.outbound,
  ),
  "outbound to the extra IP": tcp(
    "host",
    APP_UID,
    (_w, f) => EXCLUDED_IP[f],
    PORTS.peerService,
    NAMES.peerService,
    PORTS.outbound,
  ),
  "outbound from UID 5680": tcp(
    "host",
    EXCLUDED_UID,
    peer,
    PORTS.peerService,
    NAMES.peerService,
    PORTS.outbound,
  ),
  "DNS from the app": dns(APP_UID),
  "DNS from kuma-dp": dns(KUMA_DP_UID),
} satisfies Record<string, Probe>;

export type ProbeName = keyof typeof PROBES;

/** Every probe in both families, run at once; returns `"<probe> IPv<f>" -> reply`. */
export async function probeAll(w: World): Promise<Record<string, string>> {
  const entries = Object.entries(PROBES).flatMap(([name, p]) =>
    ([4, 6] as const).map(async (f) => [`${name} IPv${f}`, await p.run(w, f)] as const)
  );
  return Object.fromEntries(await Promise.all(entries));
}

/** What `probeAll` must return when exactly `redirects` are redirected. */
export function expected(w: World, redirects: ProbeName[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, p] of Object.entries(PROBES) as [ProbeName, Probe][]) {
    for (const f of [4, 6] as const) {
      out[`${name} IPv${f}`] = redirects.includes(name) ? p.redirected(w, f) : p.direct(w, f);
    }
  }
  return out;
}

/** Both backends, both families: installing one backend must leave the other alone too. */
export async function saves(ns: Netns): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const mode of MODES) {
    for (const f of [4, 6] as const) out[`${mode}/IPv${f}`] = await snapshot(ns, tools(mode, f));
  }
  return out;
}

/**
 * One harmless foreign rule per table, so the tables exist before install
 * (as on any real host) and "equal to the state before" is a fair demand.
 */
export function adminRules(): string {
  const rule = `-A OUTPUT -p tcp --dport 7 -m comment --comment "admin rule" -j RETURN`;
  return ["nat", "raw", "mangle", "filter"].map((t) => `*${t}\n${rule}\nCOMMIT\n`).join("");
}

export async function prepare(w: World, mode: "nft" | "legacy"): Promise<void> {
  for (const f of [4, 6] as const) {
    await w.host.exec(tools(mode, f).restore, ["--noflush"], adminRules());
    const [addr, len] = f === 4 ? [EXCLUDED_IP[4], 32] : [EXCLUDED_IP[6], 128];
    await w.peer.exec("ip", [f === 4 ? "-4" : "-6", "addr", "add", `${addr}/${len}`, "dev", "lo"]);
  }
}
