/**
 * firewalld's `StrictForwardPorts` (firewalld.conf, new in 2.3). With `yes`,
 * firewalld's filter_INPUT no longer accepts every DNAT'd packet: it accepts
 * only its own forward-ports' destinations and rejects the rest, and
 * REDIRECT is a DNAT, so inbound connections our rules redirect to the
 * sidecar are rejected (firewalld F13, docs/firewalld.md#f13). We never
 * change the setting: the CLI refuses and names the remedy.
 *
 * @module
 */
import { FirewalldError } from "./errors.ts";

/**
 * Whether firewalld.conf turns `StrictForwardPorts` on, read as firewalld
 * 2.3 reads it (`firewall/core/io/firewalld_conf.py`: first `key=value`
 * wins, `#`/`;` comments, `yes`/`true` in any case; default `no`).
 *
 * @example
 * ```ts
 * import { strictForwardPorts } from "./strict_forward_ports.ts";
 * if (!strictForwardPorts("StrictForwardPorts=Yes\n")) throw new Error();
 * if (strictForwardPorts(null)) throw new Error();
 * ```
 */
export function strictForwardPorts(confText: string | null): boolean {
  for (const raw of (confText ?? "").split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const pair = line.split("=").map((s) => s.trim());
    if (pair.length !== 2 || pair[0] !== "StrictForwardPorts" || pair[1] === "") continue;
    return ["yes", "true"].includes(pair[1].toLowerCase());
  }
  return false;
}

/**
 * Whether a firewalld of this version is 2.3 or later, where commit
 * 2bcab5a7 added the setting; null when the version is unknown.
 *
 * @example
 * ```ts
 * import { atLeast23 } from "./strict_forward_ports.ts";
 * if (atLeast23("2.3.1") !== true || atLeast23("1.3.3") !== false) throw new Error();
 * if (atLeast23(null) !== null) throw new Error();
 * ```
 */
export function atLeast23(version: string | null): boolean | null {
  const m = /^(\d+)\.(\d+)/.exec(version ?? "");
  if (!m) return null;
  const [major, minor] = [Number(m[1]), Number(m[2])];
  return major > 2 || (major === 2 && minor >= 3);
}

/** Whether a firewalld of this version knows the setting (2.3 and later); unknown counts as yes. */
export function knowsStrictForwardPorts(version: string | null): boolean {
  return atLeast23(version) ?? true;
}

/**
 * Throws `strict_forward_ports` when inbound redirection is on and this
 * firewalld would reject it; `version` is firewalld's (null when unknown).
 *
 * @example
 * ```ts
 * import { assertInboundRedirectWorks } from "./strict_forward_ports.ts";
 * assertInboundRedirectWorks("StrictForwardPorts=yes\n", "1.3.3", { inbound: true });
 * ```
 */
export function assertInboundRedirectWorks(
  confText: string | null,
  version: string | null,
  options: { inbound: boolean; path?: string },
): void {
  if (!options.inbound || !strictForwardPorts(confText) || !knowsStrictForwardPorts(version)) {
    return;
  }
  const path = options.path ?? "/etc/firewalld/firewalld.conf";
  throw new FirewalldError(
    "strict_forward_ports",
    `firewalld has StrictForwardPorts=yes (${path}), and then it rejects every redirected ` +
      "inbound connection that is not one of its own forward-ports, so inbound redirection to " +
      `the sidecar would not work. Set StrictForwardPorts=no in ${path} and run ` +
      "`firewall-cmd --reload`, or install with --redirect-inbound=false. Nothing was changed.",
    { path },
  );
}
