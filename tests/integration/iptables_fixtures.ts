/**
 * Shared pieces of the iptables integration tests: foreign rule sets in every
 * table, hand-written rule sets in the renderer's restore form, and a
 * normalised iptables-save snapshot to compare states with.
 */
import type { Executables, Mode } from "../../src/iptables/executables.ts";
import type { Netns } from "../world/netns.ts";

export const MODES: Mode[] = ["nft", "legacy"];

/** The real tools of one backend and family, by their suffixed names. */
export function tools(mode: Mode, family: 4 | 6): Executables {
  const base = family === 4 ? "iptables" : "ip6tables";
  return {
    mode,
    family,
    iptables: `${base}-${mode}`,
    save: `${base}-${mode}-save`,
    restore: `${base}-${mode}-restore`,
  };
}

const net = (family: 4 | 6) =>
  family === 4
    ? { a: "10.1.0.0/16", b: "10.9.9.9", lo: "127.0.0.1/32", six: "127.0.0.6/32" }
    : { a: "fd01::/16", b: "fd09::9", lo: "::1/128", six: "::6/128" };

/** Someone else's rules in filter, nat, raw and mangle; built-in and custom chains; some with comments. */
export function foreignRules(family: 4 | 6): string {
  const n = net(family);
  return `*filter
:FOREIGN_F - [0:0]
-A INPUT -p tcp --dport 22 -m comment --comment "ssh access" -j ACCEPT
-A INPUT -j FOREIGN_F
-A OUTPUT -p udp --dport 53 -j ACCEPT
-A FOREIGN_F -s ${n.a} -j DROP
COMMIT
*nat
:FOREIGN_NAT - [0:0]
-A PREROUTING -p tcp --dport 8080 -j REDIRECT --to-ports 80
-A OUTPUT -p tcp --dport 9999 -m comment --comment "kuma-like, not kuma/mesh/transparent/proxy" -j RETURN
-A OUTPUT -j FOREIGN_NAT
-A POSTROUTING -o lo -j RETURN
-A FOREIGN_NAT -d ${n.b} -m comment --comment "envoy's friend" -j RETURN
COMMIT
*raw
:FOREIGN_R - [0:0]
-A PREROUTING -p udp --dport 5000 -j NOTRACK
-A OUTPUT -p udp --dport 5001 -m comment --comment "raw foreign" -j NOTRACK
-A OUTPUT -j FOREIGN_R
COMMIT
*mangle
:FOREIGN_M - [0:0]
-A PREROUTING -j FOREIGN_M
-A OUTPUT -p tcp --dport 443 -j MARK --set-mark 0x1
-A FOREIGN_M -m conntrack --ctstate INVALID -j DROP
COMMIT
`;
}

const C = (t: string) => `-m comment --comment "kuma/mesh/transparent/proxy/${t}"`;

/**
 * A realistic rule set in the renderer's output form (`* nat` headers, -N,
 * -I with positions, -A). `dnsPort` and `mangle` vary it, so that an "older
 * installation" differs from the new one.
 */
export function kumaRules(family: 4 | 6, options: { dnsPort: number; mangle: boolean }): string {
  const n = net(family);
  const p = options.dnsPort;
  let text = `* raw
-A OUTPUT ${
    C("assign connection tracking zone 1 to DNS traffic from the kuma-dp user (UID 5678)")
  } -p udp --dport 53 -m owner --uid-owner 5678 -j CT --zone 1
-A OUTPUT ${
    C("assign connection tracking zone 2 to DNS responses from the kuma-dp DNS proxy")
  } -p udp --sport ${p} -m owner --uid-owner 5678 -j CT --zone 2
-A OUTPUT ${
    C("assign connection tracking zone 2 to all DNS requests")
  } -p udp --dport 53 -j CT --zone 2
-A PREROUTING ${
    C("assign connection tracking zone 1 to all DNS responses")
  } -p udp --sport 53 -j CT --zone 1
COMMIT
* nat
-N KUMA_MESH_INBOUND
-N KUMA_MESH_OUTBOUND
-N KUMA_MESH_INBOUND_REDIRECT
-N KUMA_MESH_OUTBOUND_REDIRECT
-A PREROUTING ${
    C("redirect inbound TCP traffic to our custom chain for processing")
  } -p tcp -j KUMA_MESH_INBOUND
-I OUTPUT 1 ${
    C("return early for DNS traffic from kuma-dp")
  } -p udp --dport 53 -m owner --uid-owner 5678 -j RETURN
-A OUTPUT ${
    C("allow applications to perform DNS queries over TCP to port 53 without mesh redirection")
  } -p tcp --dport 53 -m owner ! --uid-owner 5678 -j RETURN
-I OUTPUT 2 ${
    C(`redirect all DNS requests to the kuma-dp DNS proxy (listening on port ${p})`)
  } -p udp --dport 53 -j REDIRECT --to-ports ${p}
-A OUTPUT ${
    C("redirect outbound TCP traffic to our custom chain for processing")
  } -p tcp -j KUMA_MESH_OUTBOUND
-A KUMA_MESH_INBOUND ${
    C("redirect all inbound traffic to the custom chain for processing")
  } -p tcp -j KUMA_MESH_INBOUND_REDIRECT
-A KUMA_MESH_OUTBOUND ${C("prevent traffic loops")} -s ${n.six} -o lo -j RETURN
-A KUMA_MESH_OUTBOUND ${
    C("redirect outbound TCP traffic destined for loopback interface")
  } -p tcp -o lo ! -d ${n.lo} -m owner --uid-owner 5678 -j KUMA_MESH_INBOUND_REDIRECT
-A KUMA_MESH_OUTBOUND ${
    C("return outbound traffic owned by UID 5678 (kuma-dp user)")
  } -m owner --uid-owner 5678 -j RETURN
-A KUMA_MESH_OUTBOUND ${C("return traffic destined for localhost")} -d ${n.lo} -j RETURN
-A KUMA_MESH_OUTBOUND ${
    C("redirect all other outbound traffic to our custom chain for further processing")
  } -j KUMA_MESH_OUTBOUND_REDIRECT
-A KUMA_MESH_INBOUND_REDIRECT ${
    C("redirect TCP traffic to envoy (port 15006)")
  } -p tcp -j REDIRECT --to-ports 15006
-A KUMA_MESH_OUTBOUND_REDIRECT ${
    C("redirect TCP traffic to envoy (port 15001)")
  } -p tcp -j REDIRECT --to-ports 15001
COMMIT
`;
  if (options.mangle) {
    text += `* mangle
-A PREROUTING ${C("drop packets in the INVALID state")} -m conntrack --ctstate INVALID -j DROP
COMMIT
`;
  }
  return text;
}

/** iptables-save output without `#` lines and counters: what a state comparison should see. */
export async function snapshot(ns: Netns, exe: Executables): Promise<string> {
  const out = await ns.exec(exe.save, []);
  return out.split("\n")
    .filter((l) => l !== "" && !l.startsWith("#"))
    .map((l) => l.replace(/ \[\d+:\d+\]$/, ""))
    .join("\n");
}

/** Loads restore input with `--noflush`, failing the test if iptables rejects it. */
export async function load(ns: Netns, exe: Executables, text: string): Promise<void> {
  await ns.exec(exe.restore, ["--noflush"], text);
}

export const FAST = { wait: 5, waitInterval: 0, maxRetries: 1, sleepMs: 10 };
