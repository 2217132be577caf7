/**
 * Addresses as iptables-save prints them: always with a prefix length (`/32`,
 * `/128`), the host bits cleared (the kernel stores address and mask, so
 * `::1/64` comes back as `::/64`), and IPv6 in glibc `inet_ntop` form.
 * Private to canonical.ts.
 *
 * @module
 */

/** Bytes of an IPv4 address, or undefined if `text` is not one. */
function parseV4(text: string): number[] | undefined {
  const parts = text.split(".");
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p))) return undefined;
  const bytes = parts.map(Number);
  return bytes.every((b) => b <= 255) ? bytes : undefined;
}

/** Eight 16-bit groups of an IPv6 address (`::` and a trailing IPv4 part allowed). */
function parseV6(text: string): number[] | undefined {
  if (!text.includes(":")) return undefined;
  const lastColon = text.lastIndexOf(":");
  const dotted = text.slice(lastColon + 1);
  if (dotted.includes(".")) {
    // `::ffff:10.0.0.1`: the IPv4 part is the last two groups.
    const v4 = parseV4(dotted);
    if (!v4) return undefined;
    const hex = (hi: number, lo: number) => ((hi << 8) | lo).toString(16);
    text = `${text.slice(0, lastColon + 1)}${hex(v4[0], v4[1])}:${hex(v4[2], v4[3])}`;
  }
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const groups = (s: string) => (s === "" ? [] : s.split(":"));
  const head = groups(halves[0]);
  const rest = halves.length === 2 ? groups(halves[1]) : [];
  if (![...head, ...rest].every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
  const known = head.length + rest.length;
  if (halves.length === 1 ? known !== 8 : known > 7) return undefined;
  const zeros = new Array(8 - known).fill(0);
  return [...head.map((g) => parseInt(g, 16)), ...zeros, ...rest.map((g) => parseInt(g, 16))];
}

/** glibc inet_ntop: lowercase, no leading zeros, the longest run (2+) of zero groups as `::`, and IPv4-mapped/compatible tails in dotted form. */
function formatV6(g: number[]): string {
  let best = { base: -1, len: 0 };
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > best.len) best = { base: i, len: j - i };
    i = j;
  }
  if (best.len < 2) best = { base: -1, len: 0 };
  const dotted = best.base === 0 && (best.len === 6 || (best.len === 5 && g[5] === 0xffff));
  let out = "";
  for (let i = 0; i < 8; i++) {
    if (i === best.base) {
      out += ":";
      i += best.len - 1;
      if (i === 7) out += ":";
      continue;
    }
    if (i > 0) out += ":";
    if (i === 6 && dotted) {
      out += `${g[6] >> 8}.${g[6] & 255}.${g[7] >> 8}.${g[7] & 255}`;
      break;
    }
    out += g[i].toString(16);
  }
  return out;
}

/** Prefix length of a dotted IPv4 mask, if its bits are contiguous. */
function maskLength(mask: number[]): number | undefined {
  const bits = mask.map((b) => b.toString(2).padStart(8, "0")).join("");
  return /^1*0*$/.test(bits) ? bits.indexOf("0") === -1 ? 32 : bits.indexOf("0") : undefined;
}

/** Clears every bit past `prefix` in `words` of `width` bits each. */
function applyPrefix(words: number[], width: number, prefix: number): number[] {
  return words.map((w, i) => {
    const keep = Math.max(0, Math.min(width, prefix - i * width));
    return keep === 0 ? 0 : w & ~((1 << (width - keep)) - 1) & ((1 << width) - 1);
  });
}

/**
 * The canonical `-s`/`-d` value for `text`, or `text` unchanged if it is not
 * a literal address (a host name, which iptables resolves once at load time).
 *
 * @example
 * ```ts
 * import { canonicalAddress } from "./_address.ts";
 * if (canonicalAddress("10.0.0.2") !== "10.0.0.2/32") throw new Error();
 * if (canonicalAddress("::1/64") !== "::/64") throw new Error();
 * ```
 */
export function canonicalAddress(text: string): string {
  const [addr, mask, ...extra] = text.split("/");
  if (extra.length > 0) return text;
  const v4 = parseV4(addr);
  if (v4) {
    let prefix: number | undefined = 32;
    if (mask !== undefined) {
      const dotted = parseV4(mask);
      prefix = dotted ? maskLength(dotted) : /^\d+$/.test(mask) ? Number(mask) : undefined;
    }
    if (prefix === undefined || prefix > 32) return text;
    return `${applyPrefix(v4, 8, prefix).join(".")}/${prefix}`;
  }
  const v6 = parseV6(addr);
  if (v6) {
    const prefix = mask === undefined ? 128 : /^\d+$/.test(mask) ? Number(mask) : -1;
    if (prefix < 0 || prefix > 128) return text;
    return `${formatV6(applyPrefix(v6, 16, prefix))}/${prefix}`;
  }
  return text;
}
