/**
 * Reads what {@link flushRegime} needs from the host: firewalld's version
 * (over D-Bus while it runs) and, from the installed Python package, its
 * VERSION and whether `fw.py` has firewalld 2.0's iptables change
 * (`may_skip_flush_direct_backends`, commit b7faa74d; docs/firewalld.md#f12).
 * The source is read rather than trusted from the version because RHEL 9.3+
 * carries the change in its 1.2/1.3 packages.
 *
 * @module
 */
import type { FirewalldBus } from "./bus.ts";
import type { RegimeFacts } from "./flush_regime.ts";

/** The function b7faa74d added to `firewall/core/fw.py`. */
export const SKIP_FLUSH_MARKER = "def may_skip_flush_direct_backends(";

/**
 * Where distributions install firewalld's `firewall` package: Debian's
 * dist-packages, RHEL's and Fedora's site-packages of their python3.x (RHEL 8:
 * 3.6, 9: 3.9, 10: 3.12), and a source install under /usr/local.
 */
export function firewallPackageDirs(): string[] {
  const dirs = ["/usr/lib/python3/dist-packages/firewall"];
  for (let minor = 6; minor <= 20; minor++) {
    dirs.push(`/usr/lib/python3.${minor}/site-packages/firewall`);
  }
  for (let minor = 6; minor <= 20; minor++) {
    dirs.push(`/usr/local/lib/python3.${minor}/site-packages/firewall`);
    dirs.push(`/usr/local/lib/python3.${minor}/dist-packages/firewall`);
  }
  return dirs;
}

/** `VERSION = "2.3.1"` in `firewall/config/__init__.py`. */
export function packageVersion(text: string): string | null {
  return /^VERSION\s*=\s*["']([^"']+)["']/m.exec(text)?.[1] ?? null;
}

/**
 * The facts: the running firewalld's version when `bus` answers, else the
 * installed package's; the source marker from the first package found.
 * `readFile` is the CLI's bounded reader (it refuses anything but a regular
 * file); a file that cannot be read counts as not found.
 */
export async function readRegimeFacts(
  conf: string | null,
  bus: FirewalldBus | undefined,
  readFile: (path: string) => Promise<string>,
  dirs: readonly string[] = firewallPackageDirs(),
): Promise<RegimeFacts> {
  let version: string | null = null;
  if (bus) version = await bus.version().catch(() => null);
  for (const dir of dirs) {
    const fw = await readFile(`${dir}/core/fw.py`).catch(() => null);
    if (fw === null) continue;
    if (version === null) {
      version = packageVersion(await readFile(`${dir}/config/__init__.py`).catch(() => ""));
    }
    return { conf, version, skipsFlush: fw.includes(SKIP_FLUSH_MARKER) };
  }
  return { conf, version, skipsFlush: null };
}
