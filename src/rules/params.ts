/**
 * Constructors for the options of a rule (see `Param` in model.ts). Each one
 * returns the params in the order kumactl's `parameters/*.go` writes them, so
 * builders read like the iptables line they produce.
 *
 * @module
 */
import type { Param } from "./model.ts";

/** Protocols the rules match on. */
export type Protocol = "tcp" | "udp";

/**
 * `-p tcp|udp`. iptables loads the matching `tcp`/`udp` match implicitly for
 * the `--sport`/`--dport` that may follow.
 *
 * @example
 * ```ts
 * import { protocol } from "./params.ts";
 * if (protocol("udp")[0].value !== "udp") throw new Error();
 * ```
 */
export function protocol(proto: Protocol): Param[] {
  return [{ name: "protocol", value: proto }];
}

/** `-s addr`, or `! -s addr`. */
export function source(addr: string, negate = false): Param[] {
  return [{ name: "source", value: addr, negate }];
}

/** `-d addr`, or `! -d addr`. */
export function destination(addr: string, negate = false): Param[] {
  return [{ name: "destination", value: addr, negate }];
}

/** `-i iface` (a trailing `+` is an iptables wildcard). */
export function inInterface(iface: string): Param[] {
  return [{ name: "in-interface", value: iface }];
}

/** `-o iface`. */
export function outInterface(iface: string): Param[] {
  return [{ name: "out-interface", value: iface }];
}

/** `--sport port`; needs a preceding `-p`. */
export function sourcePort(port: number): Param[] {
  return [{ name: "source-port", value: String(port) }];
}

/** `--dport port`; needs a preceding `-p`. */
export function destinationPort(port: number): Param[] {
  return [{ name: "destination-port", value: String(port) }];
}

/** `-m owner --uid-owner uid`, or `-m owner ! --uid-owner uid`; `uid` may be a range `a:b`. */
export function uidOwner(uid: number | string, negate = false): Param[] {
  return [{ name: "match", value: "owner" }, { name: "uid-owner", value: String(uid), negate }];
}

/** `-m multiport --dports a,b:c`; needs a preceding `-p`. */
export function multiportDestinationPorts(ports: string): Param[] {
  return [{ name: "match", value: "multiport" }, { name: "dports", value: ports }];
}

/** `-m conntrack --ctstate STATE`. */
export function conntrackState(state: string): Param[] {
  return [{ name: "match", value: "conntrack" }, { name: "ctstate", value: state }];
}

/** `-j TARGET` (a chain, or a target without options such as RETURN and DROP). */
export function jump(target: string): Param[] {
  return [{ name: "jump", value: target }];
}

/** `-j REDIRECT --to-ports port`. */
export function redirectTo(port: number): Param[] {
  return [...jump("REDIRECT"), { name: "to-ports", value: String(port) }];
}

/** `-j CT --zone n`: the conntrack zone split for DNS (raw table). */
export function conntrackZone(zone: number): Param[] {
  return [...jump("CT"), { name: "zone", value: String(zone) }];
}

/** `-j LOG --log-prefix PREFIX --log-level level`. */
export function log(prefix: string, level: number): Param[] {
  return [
    ...jump("LOG"),
    { name: "log-prefix", value: prefix },
    { name: "log-level", value: String(level) },
  ];
}
