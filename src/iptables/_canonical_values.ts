/**
 * Option spellings and value forms that iptables accepts in several ways but
 * iptables-save prints in one. Private to canonical.ts.
 *
 * @module
 */
import { canonicalAddress } from "../net/address.ts";

/** Basic (non-module) options: every spelling to the short one. */
export const BASIC: Readonly<Record<string, string>> = {
  "-s": "-s",
  "--source": "-s",
  "--src": "-s",
  "-d": "-d",
  "--destination": "-d",
  "--dst": "-d",
  "-i": "-i",
  "--in-interface": "-i",
  "-o": "-o",
  "--out-interface": "-o",
  "-p": "-p",
  "--protocol": "-p",
  "-f": "-f",
  "--fragment": "-f",
};

/** The order iptables-save writes basic options in (libiptc `print_rule`). */
export const BASIC_ORDER = ["-s", "-d", "-i", "-o", "-p", "-f"];

/** Options of the tcp/udp matches, which `-p tcp|udp` loads implicitly when one is used. */
export const PROTO_OPTIONS: Readonly<Record<string, string>> = {
  "--dport": "--dport",
  "--destination-port": "--dport",
  "--sport": "--sport",
  "--source-port": "--sport",
  "--tcp-flags": "--tcp-flags",
  "--syn": "--syn",
  "--tcp-option": "--tcp-option",
};

/**
 * multiport's options. getopt accepts unambiguous abbreviations, which is
 * why `-m multiport --dport 1,2` works and is saved as `--dports 1,2`.
 */
export const MULTIPORT_OPTIONS: Readonly<Record<string, string>> = {
  "--dports": "--dports",
  "--destination-ports": "--dports",
  "--dport": "--dports",
  "--destination-port": "--dports",
  "--sports": "--sports",
  "--source-ports": "--sports",
  "--sport": "--sports",
  "--source-port": "--sports",
  "--ports": "--ports",
  "--port": "--ports",
};

/** Options that take no value. Anything else takes one, `--tcp-flags` two. */
export const FLAG_OPTIONS = new Set([
  "-f",
  "--syn",
  "--log-uid",
  "--log-tcp-sequence",
  "--log-tcp-options",
  "--log-ip-options",
  "--log-macdecode",
  "--random",
  "--random-fully",
  "--persistent",
  "--notrack",
]);

const PROTOCOL_NUMBERS: Readonly<Record<string, string>> = {
  "1": "icmp",
  "6": "tcp",
  "17": "udp",
  "58": "ipv6-icmp",
  "132": "sctp",
  icmpv6: "ipv6-icmp",
};

/** conntrack prints states in this order whatever order they were given in. */
const CTSTATE_ORDER = ["INVALID", "NEW", "RELATED", "ESTABLISHED", "UNTRACKED", "SNAT", "DNAT"];

const LOG_LEVELS: Readonly<Record<string, string>> = {
  emerg: "0",
  alert: "1",
  crit: "2",
  error: "3",
  warning: "4",
  warn: "4",
  notice: "5",
  info: "6",
  debug: "7",
};

/** `a:b` as tcp/udp print it: one number when both ends are equal, open ends filled in. */
function portRange(text: string): string {
  const m = /^(\d*):(\d*)$/.exec(text);
  if (!m) return text;
  const lo = m[1] === "" ? "0" : String(Number(m[1]));
  const hi = m[2] === "" ? "65535" : String(Number(m[2]));
  return lo === hi ? lo : `${lo}:${hi}`;
}

/** owner prints UID/GID ranges as `a-b` (and accepts `a:b`), one number when equal. */
function idRange(text: string): string {
  const m = /^(\d+)[-:](\d+)$/.exec(text);
  if (!m) return text;
  return Number(m[1]) === Number(m[2]) ? String(Number(m[1])) : `${Number(m[1])}-${Number(m[2])}`;
}

/**
 * The canonical value of option `option` of match or target `module`
 * (`""` for the basic options).
 */
export function canonicalValue(module: string, option: string, value: string): string {
  switch (`${module} ${option}`) {
    case " -s":
    case " -d":
      return canonicalAddress(value);
    case " -p": {
      const p = value.toLowerCase();
      return PROTOCOL_NUMBERS[p] ?? p;
    }
    case "tcp --dport":
    case "tcp --sport":
    case "udp --dport":
    case "udp --sport":
      return portRange(value);
    case "owner --uid-owner":
    case "owner --gid-owner":
      return idRange(value);
    case "conntrack --ctstate":
    case "state --state": {
      const states = value.toUpperCase().split(",");
      const rank = (s: string) => CTSTATE_ORDER.indexOf(s) + 1 || CTSTATE_ORDER.length + 1;
      return states.sort((a, b) => rank(a) - rank(b)).join(",");
    }
    case "LOG --log-level":
      return LOG_LEVELS[value.toLowerCase()] ?? value;
    default:
      return value;
  }
}
