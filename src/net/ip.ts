/**
 * Strict parsing of literal IPv4 and IPv6 addresses, shared by every layer
 * that reads one: the config schema validates with it, the rule builders
 * tell loopback resolvers apart, and `address.ts` gives addresses the form
 * iptables-save and nft print.
 *
 * @module
 */

/**
 * The four bytes of a strict IPv4 address, or undefined. Leading zeros are
 * rejected like Go's net.ParseIP (since Go 1.17), because some tools read
 * them as octal.
 *
 * @example
 * ```ts
 * import { ipv4Bytes } from "./ip.ts";
 * if (ipv4Bytes("10.0.0.2")?.join(".") !== "10.0.0.2" || ipv4Bytes("010.0.0.2")) throw new Error();
 * ```
 */
export function ipv4Bytes(text: string): number[] | undefined {
  const parts = text.split(".");
  if (parts.length !== 4 || !parts.every((p) => /^(0|[1-9][0-9]{0,2})$/.test(p))) return undefined;
  const bytes = parts.map(Number);
  return bytes.every((b) => b <= 255) ? bytes : undefined;
}

/**
 * The eight 16-bit groups of an IPv6 address (`::` and an embedded IPv4
 * tail such as `::ffff:1.2.3.4` allowed), or undefined.
 *
 * @example
 * ```ts
 * import { ipv6Groups } from "./ip.ts";
 * if (ipv6Groups("::1")?.join(",") !== "0,0,0,0,0,0,0,1" || ipv6Groups("1::2::3")) throw new Error();
 * ```
 */
export function ipv6Groups(text: string): number[] | undefined {
  if (!text.includes(":")) return undefined;
  let s = text;
  const lastColon = s.lastIndexOf(":");
  const tail = s.slice(lastColon + 1);
  if (tail.includes(".")) {
    // The IPv4 tail stands for the last two groups.
    const v4 = ipv4Bytes(tail);
    if (!v4) return undefined;
    const hex = (hi: number, lo: number) => ((hi << 8) | lo).toString(16);
    s = `${s.slice(0, lastColon + 1)}${hex(v4[0], v4[1])}:${hex(v4[2], v4[3])}`;
  }
  const halves = s.split("::");
  if (halves.length > 2) return undefined;
  const groups = (h: string) => (h === "" ? [] : h.split(":"));
  const head = groups(halves[0]);
  const rest = halves.length === 2 ? groups(halves[1]) : [];
  if (![...head, ...rest].every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
  const known = head.length + rest.length;
  if (halves.length === 1 ? known !== 8 : known > 7) return undefined;
  const zeros = new Array(8 - known).fill(0);
  return [...head.map((g) => parseInt(g, 16)), ...zeros, ...rest.map((g) => parseInt(g, 16))];
}

/**
 * The prefix an address range covers exactly (`0.0.0.0`-`255.255.255.255`
 * is `0.0.0.0/0`), or undefined when the range is not one prefix. nft 0.9.8
 * lists an interval set's `0.0.0.0/0` and `::/0` as such ranges in its JSON;
 * later versions list the prefix.
 *
 * @example
 * ```ts
 * import { rangeAsPrefix } from "./ip.ts";
 * if (rangeAsPrefix("::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff") !== "::/0") throw new Error();
 * if (rangeAsPrefix("10.0.0.0", "10.255.255.255") !== "10.0.0.0/8") throw new Error();
 * if (rangeAsPrefix("10.0.0.1", "10.0.0.2") !== undefined) throw new Error();
 * ```
 */
export function rangeAsPrefix(first: string, last: string): string | undefined {
  const v4 = [ipv4Bytes(first), ipv4Bytes(last)];
  const v6 = [ipv6Groups(first), ipv6Groups(last)];
  const [a, b, width, bits] = v4[0] && v4[1]
    ? [v4[0], v4[1], 8n, 32]
    : v6[0] && v6[1]
    ? [v6[0], v6[1], 16n, 128]
    : [];
  if (!a || !b || width === undefined || bits === undefined) return undefined;
  const big = (parts: number[]) => parts.reduce((n, p) => (n << width) | BigInt(p), 0n);
  const lo = big(a), hi = big(b);
  const span = lo ^ hi;
  // One prefix: the host bits are all zero at the start and all one at the end.
  if ((lo & span) !== 0n || (span & (span + 1n)) !== 0n) return undefined;
  return `${first}/${bits - (span === 0n ? 0 : span.toString(2).length)}`;
}
