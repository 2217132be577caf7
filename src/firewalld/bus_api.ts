/**
 * firewalld's D-Bus API as kuma-tproxy uses it, without a D-Bus client: the
 * system bus address and the sockets the binary may reach, the calls
 * (firewalld.dbus(5)) and how a failed one reads. bus.ts makes the calls
 * with dbus-next; connect.ts answers without it when there is no bus.
 *
 * @module
 */
import { FirewalldError } from "./errors.ts";

/** Where the system bus is when `DBUS_SYSTEM_BUS_ADDRESS` is not set (the D-Bus specification's default). */
export const DEFAULT_SYSTEM_BUS_ADDRESS = "unix:path=/var/run/dbus/system_bus_socket";

/**
 * The only bus sockets the binary may connect to: Deno checks a unix-socket
 * connect against read, write and net permissions on the exact path, and
 * scripts/permissions.txt grants exactly these two (dbus-next's /var/run
 * default and the system bus at /run). A unit test keeps both lists equal.
 */
export const ALLOWED_BUS_SOCKETS = [
  "/run/dbus/system_bus_socket",
  "/var/run/dbus/system_bus_socket",
] as const;

/**
 * Throws a `bus_address` {@link FirewalldError} unless `address` is a
 * `unix:path=` address of one of {@link ALLOWED_BUS_SOCKETS}; connecting
 * elsewhere would end in Deno's own permission error, which names a flag the
 * user cannot pass to the binary.
 *
 * @example
 * ```ts
 * import { assertAllowedBusAddress } from "./bus_api.ts";
 * assertAllowedBusAddress("unix:path=/run/dbus/system_bus_socket");
 * ```
 */
export function assertAllowedBusAddress(address: string): void {
  // D-Bus addresses: `transport:key=value,...`, several separated by `;`
  // (dbus specification, "Server Addresses"); dbus-next uses the first.
  const first = address.split(";").find((a) => a.trim() !== "") ?? "";
  const m = /^unix:(.*)$/.exec(first.trim());
  const keys = new Map(
    (m?.[1] ?? "").split(",").map((
      kv,
    ) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]),
  );
  const path = keys.get("path");
  if (path !== undefined && (ALLOWED_BUS_SOCKETS as readonly string[]).includes(path)) return;
  throw new FirewalldError(
    "bus_address",
    `DBUS_SYSTEM_BUS_ADDRESS is ${JSON.stringify(address)}, but kuma-tproxy may only reach the ` +
      `system bus at unix:path=${ALLOWED_BUS_SOCKETS.join(" or unix:path=")}`,
    { operation: "connect" },
  );
}

/**
 * The socket dbus-next connects to for `address` with a plain
 * `net.createConnection(path)`, or null for every other form of address.
 * dbus-next 0.10.2 (lib/connection.js, `createStream`) tries the
 * `;`-separated addresses in turn and keeps the first that opens without
 * throwing. A `unix:` one with `path=`, and with neither `socket=` nor
 * `abstract=` (which it prefers), always opens: its `usocket` is replaced
 * by sax (docs/decisions.md#d1), so `new USocket()` throws and it falls back
 * to `net`. The address is split exactly as it splits it.
 *
 * @example
 * ```ts
 * import { plainSocketPath } from "./bus_api.ts";
 * if (plainSocketPath("unix:path=/run/dbus/system_bus_socket") !== "/run/dbus/system_bus_socket") {
 *   throw new Error();
 * }
 * if (plainSocketPath("unix:abstract=/tmp/dbus-x") !== null) throw new Error();
 * ```
 */
export function plainSocketPath(address: string): string | null {
  const [family, keys] = address.split(";")[0].split(":");
  if (family.toLowerCase() !== "unix" || keys === undefined) return null;
  const params = new Map(
    keys.split(",").map((kv) => {
      const [key, value] = kv.split("=");
      return [key, value];
    }),
  );
  if (params.get("socket") || params.get("abstract")) return null;
  return params.get("path") || null;
}

/** firewalld's bus name, and its interface for the main object. */
export const FIREWALLD_NAME = "org.fedoraproject.FirewallD1";
/** firewalld's main object (runtime config). */
export const FIREWALLD_PATH = "/org/fedoraproject/FirewallD1";
const CONFIG_PATH = "/org/fedoraproject/FirewallD1/config";
const DIRECT = "org.fedoraproject.FirewallD1.direct";
const CONFIG_DIRECT = "org.fedoraproject.FirewallD1.config.direct";

/** One method call on firewalld. */
export interface FirewalldCall {
  path: string;
  iface: string;
  member: string;
  /** The D-Bus signature of the arguments; "" for none. */
  signature: string;
}

/**
 * The operations of `FirewalldBus` (bus.ts) that are one call on firewalld
 * each: all but `state`, `isRunning`, `version` and `close`. Named here
 * rather than derived from the interface, so this module does not import
 * bus.ts; bus.ts checks at compile time that the two lists agree.
 */
export type FirewalldCallName =
  | "getRuntimeChains"
  | "getRuntimeRules"
  | "getRuntimePassthroughs"
  | "addRuntimeChain"
  | "addRuntimeRule"
  | "removeRuntimeRule"
  | "removeRuntimeChain"
  | "getPermanent"
  | "updatePermanent"
  | "reload";

/**
 * The call behind each operation: runtime direct config on
 * `/org/fedoraproject/FirewallD1` (`...FirewallD1.direct`), permanent direct
 * config on `/org/fedoraproject/FirewallD1/config` (`...config.direct`).
 */
export const FIREWALLD_CALLS: Readonly<Record<FirewalldCallName, FirewalldCall>> = {
  getRuntimeChains: { path: FIREWALLD_PATH, iface: DIRECT, member: "getAllChains", signature: "" },
  getRuntimeRules: { path: FIREWALLD_PATH, iface: DIRECT, member: "getAllRules", signature: "" },
  getRuntimePassthroughs: {
    path: FIREWALLD_PATH,
    iface: DIRECT,
    member: "getAllPassthroughs",
    signature: "",
  },
  addRuntimeChain: { path: FIREWALLD_PATH, iface: DIRECT, member: "addChain", signature: "sss" },
  addRuntimeRule: { path: FIREWALLD_PATH, iface: DIRECT, member: "addRule", signature: "sssias" },
  removeRuntimeRule: {
    path: FIREWALLD_PATH,
    iface: DIRECT,
    member: "removeRule",
    signature: "sssias",
  },
  removeRuntimeChain: {
    path: FIREWALLD_PATH,
    iface: DIRECT,
    member: "removeChain",
    signature: "sss",
  },
  getPermanent: { path: CONFIG_PATH, iface: CONFIG_DIRECT, member: "getSettings", signature: "" },
  updatePermanent: {
    path: CONFIG_PATH,
    iface: CONFIG_DIRECT,
    member: "update",
    signature: "(a(sss)a(sssias)a(sas))",
  },
  reload: { path: FIREWALLD_PATH, iface: FIREWALLD_NAME, member: "reload", signature: "" },
};

/**
 * The error of a call that got no reply from firewalld (no connection, a
 * timeout), as distinct from firewalld refusing it.
 */
export function callFailed(
  operation: string,
  address: string,
  detail: string,
  cause: unknown,
): FirewalldError {
  return new FirewalldError("bus", `D-Bus call ${operation} on ${address} failed: ${detail}`, {
    operation,
    cause,
  });
}
