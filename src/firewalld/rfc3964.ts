/**
 * firewalld's `RFC3964_IPv4` setting and IPv6 redirection. With the stock
 * `RFC3964_IPv4=yes`, firewalld's own output chain rejects IPv6 traffic that
 * nat OUTPUT redirects to `::1` (it lies in `::/96`, and the `oifname "lo"`
 * accept does not match a rerouted packet), so dual-stack redirection fails
 * with "No route to host" (firewalld F7, docs/firewalld.md#f7). From 2.3
 * with the stock `StrictForwardPorts=no`, that chain accepts `ct status dnat`
 * before the reject (F11, firewalld commit 2bcab5a7), so redirected IPv6
 * passes. We never change the setting ourselves: where it would break IPv6,
 * the CLI refuses and names the remedies.
 *
 * @module
 */
import { FirewalldError } from "./errors.ts";
import { atLeast23, strictForwardPorts } from "./strict_forward_ports.ts";

/** firewalld's main config file. */
export const FIREWALLD_CONF_PATH = "/etc/firewalld/firewalld.conf";

/**
 * Whether `RFC3964_IPv4` is effectively on, read as firewalld 1.3 reads
 * firewalld.conf (firewall/core/io/firewalld_conf.py and core/fw.py): blank
 * lines and lines starting with `#` or `;` are skipped, a line must be
 * exactly one `key=value`, the first definition of a key wins, an empty value
 * is ignored, and anything but yes/true/no/false (any case) falls back to the
 * default, which is yes. `null` (no file) also means the default.
 *
 * @example
 * ```ts
 * import { rfc3964Ipv4Enabled } from "./rfc3964.ts";
 * if (!rfc3964Ipv4Enabled("DefaultZone=public\n")) throw new Error();
 * if (rfc3964Ipv4Enabled("RFC3964_IPv4 = No\n")) throw new Error();
 * ```
 */
export function rfc3964Ipv4Enabled(confText: string | null): boolean {
  if (confText === null) return true;
  for (const raw of confText.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const pair = line.split("=").map((s) => s.trim());
    if (pair.length !== 2 || pair[0] !== "RFC3964_IPv4" || pair[1] === "") continue;
    return !["no", "false"].includes(pair[1].toLowerCase());
  }
  return true;
}

/**
 * Whether firewalld's `filter_OUTPUT` accepts DNAT'ed packets (so also
 * redirected ones) before its RFC3964 reject: firewalld 2.3 and later with
 * `StrictForwardPorts=no` (`_build_default_rules_dnat("OUTPUT")` in
 * `firewall/core/nftables.py`, the `DNAT` ctstate of the OUTPUT accept in
 * `ipXtables.py`). With `StrictForwardPorts=yes` that accept becomes a jump to
 * a chain that rejects every DNAT'ed packet but firewalld's own
 * forward-ports. An unknown version counts as older: the side that refuses.
 *
 * @example
 * ```ts
 * import { acceptsDnatOutputFirst } from "./rfc3964.ts";
 * if (!acceptsDnatOutputFirst(null, "2.3.1")) throw new Error();
 * if (acceptsDnatOutputFirst("StrictForwardPorts=yes\n", "2.3.1")) throw new Error();
 * if (acceptsDnatOutputFirst(null, "1.3.3") || acceptsDnatOutputFirst(null, null)) throw new Error();
 * ```
 */
export function acceptsDnatOutputFirst(confText: string | null, version: string | null): boolean {
  return atLeast23(version) === true && !strictForwardPorts(confText);
}

/**
 * Whether {@link assertIpv6RedirectWorks} needs firewalld's version to decide:
 * dual stack with `RFC3964_IPv4` on. Callers read the version only then.
 */
export function rfc3964NeedsVersion(
  confText: string | null,
  ipFamilyMode: "dualstack" | "ipv4",
): boolean {
  return ipFamilyMode === "dualstack" && rfc3964Ipv4Enabled(confText);
}

/**
 * Throws `rfc3964_ipv4` when a dual-stack install would break on this host's
 * firewalld; does nothing in ipv4 mode, when the setting is off, or when
 * firewalld accepts redirected output first ({@link acceptsDnatOutputFirst};
 * `version` is firewalld's, null or absent when unknown).
 *
 * @example
 * ```ts
 * import { assertIpv6RedirectWorks } from "./rfc3964.ts";
 * assertIpv6RedirectWorks("RFC3964_IPv4=yes\n", { ipFamilyMode: "ipv4" });
 * assertIpv6RedirectWorks("RFC3964_IPv4=yes\n", { ipFamilyMode: "dualstack", version: "2.3.1" });
 * ```
 */
export function assertIpv6RedirectWorks(
  confText: string | null,
  options: { ipFamilyMode: "dualstack" | "ipv4"; path?: string; version?: string | null },
): void {
  if (!rfc3964NeedsVersion(confText, options.ipFamilyMode)) return;
  if (acceptsDnatOutputFirst(confText, options.version ?? null)) return;
  const path = options.path ?? FIREWALLD_CONF_PATH;
  throw new FirewalldError(
    "rfc3964_ipv4",
    `firewalld has RFC3964_IPv4 enabled (${path}), and then it rejects IPv6 traffic redirected to ::1, ` +
      `so IPv6 redirection would not work. Either set RFC3964_IPv4=no in ${path} and run ` +
      `\`firewall-cmd --reload\`, or install with --ip-family-mode ipv4. Nothing was changed.`,
    { path },
  );
}
