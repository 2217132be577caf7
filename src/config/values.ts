/**
 * Pure parsers for the value formats of kumactl's transparent-proxy config
 * (pkg/transparentproxy/config/utils.go), and the formatters that write the
 * parsed values back. Only the schema parses: `Config` holds the parsed
 * values (port ranges, UID ranges, CIDRs), so the rule builders never do.
 *
 * Every parser throws a {@link ValueError} on bad input; callers add the
 * setting path and the source. Every formatter's output parses back to the
 * same value.
 *
 * @module
 */
import { ipv4Bytes, ipv6Groups } from "../net/ip.ts";

/** A value that does not have the expected format. */
export class ValueError extends Error {
  /** The offending text, as given. */
  readonly value: string;
  /** What is wrong, as a predicate: "is not a port". */
  readonly reason: string;
  /** What would have been accepted: "1-65535". */
  readonly expected: string;

  /**
   * @example
   * ```ts
   * const e = new ValueError("0", "is not a port", "1-65535");
   * if (e.expected !== "1-65535") throw new Error();
   * ```
   */
  constructor(value: string, reason: string, expected: string) {
    super(`${JSON.stringify(value)} ${reason} (expected ${expected})`);
    this.name = "ValueError";
    this.value = value;
    this.reason = reason;
    this.expected = expected;
  }
}

/** An inclusive range; `from === to` for a single value. */
export interface PortRange {
  from: number;
  to: number;
}

/** One parsed `[proto:][ports:]uids` entry. */
export interface UidExclusion {
  protocols: ("tcp" | "udp")[];
  ports: PortRange[];
  uids: PortRange;
}

/** An IP address or CIDR, with its family. */
export interface IpNet {
  /** As typed, trimmed; an IPv4-mapped IPv6 address as its IPv4 form (see parseIpOrCidr). */
  text: string;
  family: 4 | 6;
}

/** One parsed `iface:CIDR` vnet entry. */
export interface VnetNetwork {
  iface: string;
  cidr: IpNet;
}

/**
 * The most entries any list setting (ports, IPs, UID exclusions, vnets) and
 * resolv.conf's nameservers may have. Real hosts need tens; each entry
 * becomes at least one rule, and 4096 keeps install within seconds and a
 * few hundred MB where an unbounded list once ran out of memory.
 */
export const MAX_LIST_ITEMS = 4096;

const PORT_EXPECTED = "1-65535";
const DECIMAL = /^[0-9]+$/;
/** Highest UID Linux accepts: (uid_t)-1 is reserved as "no user". */
export const MAX_UID = 4294967294;

/**
 * Checks a kuma-dp user (a name or a UID): a number above {@link MAX_UID}
 * is no UID. `getent passwd` would wrap it (4294967296 is root, 4294967297
 * UID 1), so the rules would exempt root's traffic from the mesh; kumactl
 * (Go's os/user, which compares the UID field as text) finds no user.
 *
 * @example
 * ```ts
 * import { parseKumaDpUser } from "./values.ts";
 * if (parseKumaDpUser("kuma-dp") !== "kuma-dp" || parseKumaDpUser("5678") !== "5678") throw new Error();
 * let refused = false;
 * try { parseKumaDpUser("4294967296"); } catch { refused = true; }
 * if (!refused) throw new Error();
 * ```
 */
export function parseKumaDpUser(text: string): string {
  if (DECIMAL.test(text) && Number(text) > MAX_UID) {
    throw new ValueError(text, "is not a UID", `a user name or a UID 0-${MAX_UID}`);
  }
  return text;
}

/**
 * Parses one port: decimal 1-65535 (kumactl rejects 0 too).
 *
 * @example
 * ```ts
 * import { parsePort } from "./values.ts";
 * if (parsePort(" 8080 ") !== 8080) throw new Error();
 * ```
 */
export function parsePort(text: string | number): number {
  const raw = String(text).trim();
  if (typeof text === "number" ? !Number.isInteger(text) : !DECIMAL.test(raw)) {
    throw new ValueError(raw, "is not a port", PORT_EXPECTED);
  }
  const port = Number(raw);
  if (port < 1 || port > 65535) throw new ValueError(raw, "is not a port", PORT_EXPECTED);
  return port;
}

/**
 * Parses a comma-separated port list; "" is the empty list.
 *
 * @example
 * ```ts
 * import { parsePortList } from "./values.ts";
 * if (parsePortList("80, 443").join() !== "80,443") throw new Error();
 * ```
 */
export function parsePortList(text: string): number[] {
  if (text.trim() === "") return [];
  return text.split(",").map((p) => parsePort(p));
}

/**
 * Parses an excludePortsForUIDs entry: `uids`, `ports:uids` or
 * `proto:ports:uids`. An empty or `*` protocol means tcp and udp, an empty or
 * `*` port part means 1-65535. UIDs must be one value or one `a-b` range,
 * because kumactl emits a single `--uid-owner` match per rule.
 *
 * @example
 * ```ts
 * import { parseUidExclusion } from "./values.ts";
 * const e = parseUidExclusion("tcp:80,8000-8080:1000-1010");
 * if (e.ports.length !== 2 || e.uids.to !== 1010) throw new Error();
 * ```
 */
export function parseUidExclusion(text: string): UidExclusion {
  const raw = text.trim();
  const parts = raw.split(":");
  if (parts.length > 3) {
    throw new ValueError(raw, "is not a UID exclusion", "[protocol:][ports:]uids");
  }
  const [proto, ports, uids] = parts.length === 3
    ? parts
    : parts.length === 2
    ? ["", parts[0], parts[1]]
    : ["", "", parts[0]];
  return {
    protocols: parseProtocols(proto, raw),
    ports: parsePortRanges(ports),
    uids: parseUidRange(uids),
  };
}

const ALL_PORTS: PortRange = { from: 1, to: 65535 };

function formatRange(r: PortRange): string {
  return r.from === r.to ? String(r.from) : `${r.from}-${r.to}`;
}

/**
 * Writes a parsed UID exclusion back in its shortest form: the protocol part
 * only when it is not `tcp,udp` in that order (the order of the rules), the
 * port part only when it is not every port. Entries that mean the same
 * (`1000`, `*:*:1000`, `tcp,udp:1-65535:1000`) are written the same.
 *
 * @example
 * ```ts
 * import { formatUidExclusion, parseUidExclusion } from "./values.ts";
 * if (formatUidExclusion(parseUidExclusion("*:*:1000")) !== "1000") throw new Error();
 * if (formatUidExclusion(parseUidExclusion("udp::0")) !== "udp:*:0") throw new Error();
 * ```
 */
export function formatUidExclusion(e: UidExclusion): string {
  const everyPort = e.ports.length === 1 && e.ports[0].from === ALL_PORTS.from &&
    e.ports[0].to === ALL_PORTS.to;
  const ports = everyPort ? "*" : e.ports.map(formatRange).join(",");
  const uids = formatRange(e.uids);
  if (e.protocols.join() !== "tcp,udp") return `${e.protocols.join(",")}:${ports}:${uids}`;
  return everyPort ? uids : `${ports}:${uids}`;
}

function parseProtocols(text: string, whole: string): ("tcp" | "udp")[] {
  const t = text.trim().toLowerCase();
  if (t === "" || t === "*") return ["tcp", "udp"];
  const out: ("tcp" | "udp")[] = [];
  for (const p of t.split(",").map((s) => s.trim())) {
    if (p !== "tcp" && p !== "udp") {
      throw new ValueError(whole, `has an unknown protocol "${p}"`, "tcp, udp, tcp,udp or *");
    }
    if (!out.includes(p)) out.push(p);
  }
  return out;
}

function parsePortRanges(text: string): PortRange[] {
  const t = text.trim();
  if (t === "" || t === "*") return [{ ...ALL_PORTS }];
  return t.split(",").map((item) => {
    const [a, b, ...rest] = item.split("-");
    if (rest.length > 0) throw new ValueError(item.trim(), "is not a port range", "port or a-b");
    const from = parsePort(a);
    const to = b === undefined ? from : parsePort(b);
    if (from > to) throw new ValueError(item.trim(), "is a reversed port range", "a-b with a <= b");
    return { from, to };
  });
}

function parseUidRange(text: string): PortRange {
  const t = text.trim();
  const expected = "a UID or a UID range a-b";
  const [a, b, ...rest] = t.split("-");
  if (rest.length > 0) throw new ValueError(t, "is not a UID range", expected);
  const one = (s: string) => {
    const v = s.trim();
    if (!DECIMAL.test(v) || Number(v) > MAX_UID) {
      throw new ValueError(t, "is not a UID or UID range", expected);
    }
    return Number(v);
  };
  const from = one(a);
  const to = b === undefined ? from : one(b);
  if (from > to) throw new ValueError(t, "is a reversed UID range", "a-b with a <= b");
  return { from, to };
}

/**
 * Parses a strict IPv4/IPv6 address or CIDR (no zones, no leading zeros).
 *
 * An IPv4-mapped IPv6 address (`::ffff:10.0.0.1`, `::ffff:a00:1`) is IPv4,
 * written as the IPv4 address it stands for: kumactl chooses the family by
 * Go's `To4()`, which is set for exactly these (kuma
 * pkg/transparentproxy/config/utils.go `validateIP`; the vnet and DNS
 * `Initialize` in config.go), so they go into the IPv4 rules, and iptables
 * reads `::ffff:10.0.0.1` as 10.0.0.1 there. A mapped CIDR of /96 or longer
 * is the IPv4 CIDR of the same addresses (`::ffff:10.0.0.0/104` is
 * 10.0.0.0/8); a shorter one spans both families and is refused.
 *
 * @example
 * ```ts
 * import { parseIpOrCidr } from "./values.ts";
 * if (parseIpOrCidr("fd00::/8").family !== 6) throw new Error();
 * if (parseIpOrCidr("::ffff:10.0.0.1").text !== "10.0.0.1") throw new Error();
 * if (parseIpOrCidr("::ffff:10.0.0.0/104").text !== "10.0.0.0/8") throw new Error();
 * ```
 */
export function parseIpOrCidr(text: string): IpNet {
  const t = text.trim();
  const expected = "an IPv4 or IPv6 address or CIDR";
  const slash = t.indexOf("/");
  const addr = slash < 0 ? t : t.slice(0, slash);
  const groups = ipv4Bytes(addr) ? undefined : ipv6Groups(addr);
  const family = groups ? 6 : ipv4Bytes(addr) ? 4 : undefined;
  if (family === undefined) throw new ValueError(t, "is not an IP address or CIDR", expected);
  const prefix = slash < 0 ? undefined : t.slice(slash + 1);
  if (prefix !== undefined) {
    const max = family === 4 ? 32 : 128;
    if (!/^(0|[1-9][0-9]{0,2})$/.test(prefix) || Number(prefix) > max) {
      throw new ValueError(t, "has an invalid prefix length", `/0 to /${max}`);
    }
  }
  const v4 = groups && mappedIpv4(groups);
  if (!v4) return { text: t, family };
  if (prefix === undefined) return { text: v4, family: 4 };
  if (Number(prefix) < 96) {
    throw new ValueError(
      t,
      "is an IPv4-mapped CIDR shorter than /96, which spans IPv4 and IPv6 addresses",
      "an IPv4 CIDR, or an IPv4-mapped one of /96 or longer (::ffff:10.0.0.0/104 is 10.0.0.0/8)",
    );
  }
  return { text: `${v4}/${Number(prefix) - 96}`, family: 4 };
}

/** The IPv4 address of an IPv4-mapped IPv6 address (`::ffff:0:0/96`), as Go's `To4()` finds it. */
function mappedIpv4(groups: number[]): string | undefined {
  if (!groups.slice(0, 5).every((g) => g === 0) || groups[5] !== 0xffff) return undefined;
  return [groups[6] >> 8, groups[6] & 255, groups[7] >> 8, groups[7] & 255].join(".");
}

/** Linux's IFNAMSIZ minus the terminating NUL (include/uapi/linux/if.h). */
const MAX_IFACE_BYTES = 15;

/**
 * Checks an interface name as iptables' `-i` takes it: Linux's rules for
 * names (net/core/dev.c, dev_valid_name(): 1-15 bytes, not `.` or `..`, no
 * `/`, `:` or whitespace), optionally ending in iptables' `+` wildcard
 * (libxtables xtables_parse_interface(), which counts the `+` in the 15).
 * Quotes, backslashes and control characters are refused too: no real
 * interface has them, and they would break the rule's iptables-restore line
 * and firewalld's re-quoting of it. Returns the reason, or undefined if valid.
 *
 * @example
 * ```ts
 * import { interfaceNameProblem } from "./values.ts";
 * if (interfaceNameProblem("docker0") || interfaceNameProblem("br+")) throw new Error();
 * if (!interfaceNameProblem("do\"cker") || !interfaceNameProblem("a-very-long-name0")) {
 *   throw new Error();
 * }
 * ```
 */
export function interfaceNameProblem(name: string): string | undefined {
  const bytes = new TextEncoder().encode(name).length;
  if (bytes === 0) return "has an empty interface name";
  if (bytes > MAX_IFACE_BYTES) {
    return `has an interface name of ${bytes} bytes (Linux allows at most ${MAX_IFACE_BYTES})`;
  }
  if (name === "." || name === "..") return `has the interface name "${name}", which Linux refuses`;
  // deno-lint-ignore no-control-regex -- control characters are what it looks for
  const bad = /[\s/:"'`\\\x00-\x1f\x7f]/.exec(name);
  if (bad) {
    const what = /\s/.test(bad[0]) || bad[0] < " " || bad[0] === "\x7f"
      ? `a control or whitespace character (U+${
        bad[0].charCodeAt(0).toString(16).padStart(4, "0")
      })`
      : `'${bad[0]}'`;
    return `has an interface name with ${what}`;
  }
  if (name.slice(0, -1).includes("+")) {
    return "has an interface name with '+' before its end (iptables' wildcard is a final +)";
  }
  return undefined;
}

/**
 * Parses a vnet `iface:CIDR` entry, split at the first `:` so that IPv6
 * CIDRs work. The interface may end in `+` (an iptables wildcard).
 *
 * @example
 * ```ts
 * import { parseVnet } from "./values.ts";
 * const v = parseVnet("br+:fd00::/64");
 * if (v.iface !== "br+" || v.cidr.family !== 6) throw new Error();
 * ```
 */
export function parseVnet(text: string): VnetNetwork {
  const t = text.trim();
  const expected = "iface:CIDR, like docker0:172.17.0.0/16";
  const colon = t.indexOf(":");
  if (colon < 0) throw new ValueError(t, "is not a vnet network", expected);
  const iface = t.slice(0, colon);
  const problem = interfaceNameProblem(iface);
  if (problem) {
    throw new ValueError(
      t,
      problem,
      `${expected}; an interface name is 1-15 bytes without whitespace, / : quotes or \\, ` +
        "and may end in the wildcard +",
    );
  }
  const cidrText = t.slice(colon + 1);
  if (!cidrText.includes("/")) throw new ValueError(t, "has no CIDR prefix", expected);
  let cidr: IpNet;
  try {
    cidr = parseIpOrCidr(cidrText);
  } catch (e) {
    if (e instanceof ValueError) throw new ValueError(t, e.reason, expected);
    throw e;
  }
  return { iface, cidr };
}

/**
 * Writes a parsed vnet entry back as `iface:CIDR`.
 *
 * @example
 * ```ts
 * import { formatVnet, parseVnet } from "./values.ts";
 * if (formatVnet(parseVnet(" docker0:172.17.0.0/16 ")) !== "docker0:172.17.0.0/16") {
 *   throw new Error();
 * }
 * ```
 */
export function formatVnet(v: VnetNetwork): string {
  return `${v.iface}:${v.cidr.text}`;
}

const UNIT_NS: Record<string, number> = {
  ns: 1,
  us: 1e3,
  "µs": 1e3, // U+00B5 micro sign, as Go prints it
  "μs": 1e3, // U+03BC Greek mu, which Go also accepts
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

/**
 * Parses a Go duration ("2s", "500ms", "1m30s", "1.5h") into milliseconds.
 * A number, or a string of digits, is nanoseconds: that is how kumactl's
 * JSON/YAML and its `--sleep-between-retries` read it. A JSON-quoted value
 * (`"2s"` with the quotes) is unquoted first, for kumactl flag compatibility.
 *
 * @example
 * ```ts
 * import { parseDurationMs } from "./values.ts";
 * if (parseDurationMs("1m30s") !== 90_000) throw new Error();
 * if (parseDurationMs(2_000_000_000) !== 2000) throw new Error();
 * ```
 */
export function parseDurationMs(text: string | number): number {
  const expected = 'a duration like "2s", "500ms" or "1m30s"';
  if (typeof text === "number") {
    if (!Number.isInteger(text) || text < 0) {
      throw new ValueError(String(text), "is not a duration in nanoseconds", expected);
    }
    return text / 1e6;
  }
  let t = text.trim();
  if (t.length >= 2 && t.startsWith('"') && t.endsWith('"')) t = t.slice(1, -1).trim();
  if (DECIMAL.test(t)) return Number(t) / 1e6;
  const re = /([0-9]*\.?[0-9]*)([a-zµμ]+)/gy;
  let ns = 0;
  let m: RegExpExecArray | null;
  let pos = 0;
  while ((m = re.exec(t)) !== null) {
    const [, num, unit] = m;
    if (num === "" || num === "." || !(unit in UNIT_NS)) break;
    ns += Number(num) * UNIT_NS[unit];
    pos = re.lastIndex;
  }
  if (t === "" || pos !== t.length) throw new ValueError(t, "is not a duration", expected);
  return ns / 1e6;
}

/**
 * Formats milliseconds the way Go's `time.Duration.String()` does:
 * "2s", "1m30s", "1h0m0s", "500ms", "0s".
 *
 * @example
 * ```ts
 * import { formatDuration } from "./values.ts";
 * if (formatDuration(90_000) !== "1m30s") throw new Error();
 * ```
 */
export function formatDuration(ms: number): string {
  const ns = Math.round(ms * 1e6);
  if (ns === 0) return "0s";
  const frac = (value: number, unit: number) => {
    const whole = Math.floor(value / unit);
    const rest = value - whole * unit;
    if (rest === 0) return String(whole);
    const digits = String(unit).length - 1;
    return `${whole}.${String(rest).padStart(digits, "0").replace(/0+$/, "")}`;
  };
  if (ns < 1e3) return `${ns}ns`;
  if (ns < 1e6) return `${frac(ns, 1e3)}µs`;
  if (ns < 1e9) return `${frac(ns, 1e6)}ms`;
  const h = Math.floor(ns / 3600e9);
  const m = Math.floor((ns - h * 3600e9) / 60e9);
  const s = frac(ns - h * 3600e9 - m * 60e9, 1e9);
  if (h > 0) return `${h}h${m}m${s}s`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}

const TRUE = ["1", "t", "T", "TRUE", "true", "True"];
const FALSE = ["0", "f", "F", "FALSE", "false", "False"];

/**
 * Parses a boolean as Go's `strconv.ParseBool` does.
 *
 * @example
 * ```ts
 * import { parseBool } from "./values.ts";
 * if (parseBool("T") !== true || parseBool("0") !== false) throw new Error();
 * ```
 */
export function parseBool(text: string): boolean {
  const t = text.trim();
  if (TRUE.includes(t)) return true;
  if (FALSE.includes(t)) return false;
  throw new ValueError(t, "is not a boolean", "true or false");
}
