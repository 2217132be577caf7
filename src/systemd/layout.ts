/**
 * Where boot persistence lives: the unit, its config file and the
 * `WantedBy` symlink that enables it, as pure path arithmetic.
 *
 * @module
 */

/** Our unit's name. A unit with another name (kuma-tproxy-foo.service) is never ours. */
export const UNIT_NAME = "kuma-tproxy.service";

/**
 * The target that pulls the unit in at boot. multi-user.target, like
 * firewalld.service and Debian's netfilter-persistent.service: a
 * sysinit.target unit could not be ordered after firewalld.service, which
 * itself starts after dbus.service and so after sysinit.target.
 */
export const WANTED_BY = "multi-user.target";

/** The config file the unit applies, in the config directory. */
export const CONFIG_FILE = "boot.yaml";

/** The two directories we write in; /etc/systemd/system and /etc/kuma-tproxy on a real host. */
export interface BootDirs {
  /** systemd's unit directory for the administrator's units (systemd.unit(5)). */
  unitDir: string;
  /** kuma-tproxy's own directory. */
  configDir: string;
}

/** Every path boot persistence touches. */
export interface BootPaths {
  unit: string;
  config: string;
  /** `<unitDir>/<WANTED_BY>.wants`, which `systemctl enable` creates when missing. */
  wantsDir: string;
  /** The symlink in wantsDir that enables the unit. */
  wantsLink: string;
}

/**
 * The paths for a pair of directories.
 *
 * @example
 * ```ts
 * import { bootPaths } from "./layout.ts";
 * const p = bootPaths({ unitDir: "/etc/systemd/system", configDir: "/etc/kuma-tproxy" });
 * if (p.wantsLink !== "/etc/systemd/system/multi-user.target.wants/kuma-tproxy.service") {
 *   throw new Error(p.wantsLink);
 * }
 * ```
 */
export function bootPaths(dirs: BootDirs): BootPaths {
  const wantsDir = `${dirs.unitDir}/${WANTED_BY}.wants`;
  return {
    unit: `${dirs.unitDir}/${UNIT_NAME}`,
    config: `${dirs.configDir}/${CONFIG_FILE}`,
    wantsDir,
    wantsLink: `${wantsDir}/${UNIT_NAME}`,
  };
}

/** What enabling needs on disk when systemctl cannot do it (systemd not running). */
export interface EnableLink {
  /** Created (mode 0755) when missing, as systemctl does. */
  dir: string;
  link: string;
  /** Absolute, as `systemctl enable` writes it for a unit in /etc/systemd/system. */
  target: string;
}

/**
 * The symlink `systemctl enable kuma-tproxy.service` would create for our
 * `[Install] WantedBy=`: `<unitDir>/<target>.wants/<unit>` pointing at the
 * unit file by its absolute path (systemctl(1), "enable").
 *
 * @example
 * ```ts
 * import { enableLink } from "./layout.ts";
 * const l = enableLink({ unitDir: "/etc/systemd/system", configDir: "/etc/kuma-tproxy" });
 * if (l.target !== "/etc/systemd/system/kuma-tproxy.service") throw new Error(l.target);
 * ```
 */
export function enableLink(dirs: BootDirs): EnableLink {
  const p = bootPaths(dirs);
  return { dir: p.wantsDir, link: p.wantsLink, target: p.unit };
}
