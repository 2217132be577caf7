/**
 * Addresses as iptables-save prints them: always with a prefix length (`/32`,
 * `/128`), the host bits cleared (the kernel stores address and mask, so
 * `::1/64` comes back as `::/64`), and IPv6 in glibc `inet_ntop` form.
 * Shared by the iptables canonical form and the nftables set elements.
 *
 * @module
 */
import { ipv4Bytes, ipv6Groups } from "./ip.ts";

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
 * import { canonicalAddress } from "./address.ts";
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

/** The bits of a canonical `addr/len`, as a string of 0 and 1 (both families). */
function prefixBits(canonical: string): { bits: string; len: number } {
  const [addr, len] = canonical.split("/");
  const v4 = ipv4Bytes(addr);
  const words = v4 ? v4.map((b) => b.toString(2).padStart(8, "0")) : (ipv6Groups(addr) ?? [])
    .map((g) => g.toString(2).padStart(16, "0"));
  return { bits: words.join(""), len: Number(len) };
}

/**
 * Addresses and CIDRs as the elements of an nft interval set: canonical
 * network addresses, duplicates and CIDRs inside another entry dropped (two
 * prefixes either nest or are disjoint, so what remains never overlaps and
 * nft needs no `auto-merge`), a single host written without its prefix, as
 * `nft -j` lists it.
 *
 * @example
 * ```ts
 * import { setElements } from "./address.ts";
 * const e = setElements(["10.1.0.0/16", "10.0.0.0/8", "1.2.3.4/32", "172.32.16.8/16"]);
 * if (e.join() !== "10.0.0.0/8,1.2.3.4,172.32.0.0/16") throw new Error(e.join());
 * ```
 */
export function setElements(addresses: string[]): string[] {
  const nets = [...new Set(addresses.map(canonicalAddress))].map((c) => ({ c, ...prefixBits(c) }));
  const kept = nets.filter((n) =>
    !nets.some((o) => o.len < n.len && n.bits.startsWith(o.bits.slice(0, o.len)))
  );
  return kept.map(({ c }) => c.includes(":") ? c.replace(/\/128$/, "") : c.replace(/\/32$/, ""));
}
