/**
 * How the CLI reaches firewalld: through dbus-next (bus.ts, imported here),
 * except when the bus socket is not there. dbus-next loads as CommonJS
 * (tens of milliseconds of start-up, issue 11), and on most hosts without
 * firewalld there is no system bus either, so every install would pay for a
 * connection that fails at once.
 *
 * @module
 */
import type { ConnectOptions, FirewalldBus } from "./bus.ts";
import {
  assertAllowedBusAddress,
  callFailed,
  FIREWALLD_CALLS,
  type FirewalldCallName,
  plainSocketPath,
} from "./bus_api.ts";

/**
 * Connects like `connectFirewalld()` of bus.ts. When dbus-next would connect
 * to a socket path where nothing exists, it answers as dbus-next's client
 * does once that connect has failed with ENOENT, without loading it:
 * `state()` null (no bus, so no firewalld), `isRunning()` false, every call
 * a `bus` error, `close()` nothing to close. Any other address (abstract,
 * tcp, a path that exists) goes to dbus-next.
 *
 * @example
 * ```ts
 * import { openFirewalld } from "./connect.ts";
 * const bus = await openFirewalld({ address: "unix:path=/nonexistent/system_bus_socket" });
 * if (await bus.isRunning()) throw new Error();
 * bus.close();
 * ```
 */
export async function openFirewalld(
  options: ConnectOptions & { allowedOnly?: boolean },
): Promise<FirewalldBus> {
  if (options.allowedOnly) assertAllowedBusAddress(options.address);
  const path = plainSocketPath(options.address);
  const missing = path === null ? null : await notFound(path);
  if (path !== null && missing !== null) return new MissingBus(options.address, path, missing);
  const { connectFirewalld } = await import("./bus.ts");
  return connectFirewalld(options);
}

/** The NotFound error when nothing (not even a dangling symlink) is at `path`; null otherwise. */
async function notFound(path: string): Promise<Deno.errors.NotFound | null> {
  try {
    await Deno.lstat(path);
    return null;
  } catch (e) {
    return e instanceof Deno.errors.NotFound ? e : null;
  }
}

/** dbus-next's client after its connect failed with ENOENT (checked with dbus-next 0.10.2). */
class MissingBus implements FirewalldBus {
  constructor(
    readonly address: string,
    readonly path: string,
    readonly cause: Deno.errors.NotFound,
  ) {}

  state(): Promise<string | null> {
    return Promise.resolve(null);
  }

  isRunning(): Promise<boolean> {
    return Promise.resolve(false);
  }

  version(): Promise<string | null> {
    return Promise.resolve(null);
  }

  getRuntimeChains = () => this.#fail("getRuntimeChains");
  getRuntimeRules = () => this.#fail("getRuntimeRules");
  getRuntimePassthroughs = () => this.#fail("getRuntimePassthroughs");
  addRuntimeChain = () => this.#fail("addRuntimeChain");
  addRuntimeRule = () => this.#fail("addRuntimeRule");
  removeRuntimeRule = () => this.#fail("removeRuntimeRule");
  removeRuntimeChain = () => this.#fail("removeRuntimeChain");
  getPermanent = () => this.#fail("getPermanent");
  updatePermanent = () => this.#fail("updatePermanent");
  reload = () => this.#fail("reload");

  close(): void {}

  #fail(name: FirewalldCallName): Promise<never> {
    const { iface, member } = FIREWALLD_CALLS[name];
    // Node's text for the failed connect (`<syscall> <code> <address>`), as dbus-next reports it.
    return Promise.reject(
      callFailed(`${iface}.${member}`, this.address, `connect ENOENT ${this.path}`, this.cause),
    );
  }
}
