/**
 * Addresses as iptables-save prints them: always with a prefix length (`/32`,
 * `/128`), the host bits cleared (the kernel stores address and mask, so
 * `::1/64` comes back as `::/64`), and IPv6 in glibc `inet_ntop` form.
 * Private to canonical.ts.
 *
 * @module
 */
import { ipv4Bytes, ipv6Groups } from "../config/values.ts";

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
  const v4 = ipv4Bytes(addr);
  if (v4) {
    let prefix: number | undefined = 32;
    if (mask !== undefined) {
      const dotted = ipv4Bytes(mask);
      prefix = dotted ? maskLength(dotted) : /^\d+$/.test(mask) ? Number(mask) : undefined;
    }
    if (prefix === undefined || prefix > 32) return text;
    return `${applyPrefix(v4, 8, prefix).join(".")}/${prefix}`;
  }
  const v6 = ipv6Groups(addr);
  if (v6) {
    const prefix = mask === undefined ? 128 : /^\d+$/.test(mask) ? Number(mask) : -1;
    if (prefix < 0 || prefix > 128) return text;
    return `${formatV6(applyPrefix(v6, 16, prefix))}/${prefix}`;
  }
  return text;
}
