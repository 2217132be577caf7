import { assertEquals, assertThrows } from "../../assert.ts";
import {
  ALLOWED_BUS_SOCKETS,
  assertAllowedBusAddress,
  plainSocketPath,
} from "../../../src/firewalld/bus_api.ts";
import { FirewalldError } from "../../../src/firewalld/errors.ts";

Deno.test("assertAllowedBusAddress() accepts only unix:path= addresses of the granted sockets", () => {
  const cases: [string, boolean][] = [
    ["unix:path=/run/dbus/system_bus_socket", true],
    ["unix:path=/var/run/dbus/system_bus_socket", true],
    ["unix:path=/run/dbus/system_bus_socket,guid=0123abcd", true],
    ["unix:guid=1,path=/run/dbus/system_bus_socket", true],
    ["unix:path=/run/dbus/system_bus_socket;tcp:host=x", true],
    ["unix:path=/tmp/x/bus", false],
    ["unix:path=/run/dbus/system_bus_socket2", false],
    ["unix:abstract=/run/dbus/system_bus_socket", false],
    ["tcp:host=localhost,port=1234", false],
    ["", false],
  ];
  for (const [address, ok] of cases) {
    if (ok) {
      assertAllowedBusAddress(address);
      continue;
    }
    const e = assertThrows(() => assertAllowedBusAddress(address), FirewalldError);
    assertEquals(e.code, "bus_address", address);
    assertEquals(
      e.message,
      `DBUS_SYSTEM_BUS_ADDRESS is ${JSON.stringify(address)}, but kuma-tproxy may only reach the ` +
        "system bus at unix:path=/run/dbus/system_bus_socket or " +
        "unix:path=/var/run/dbus/system_bus_socket",
    );
  }
});

Deno.test("ALLOWED_BUS_SOCKETS are exactly the sockets scripts/permissions.txt grants", () => {
  const perms = Deno.readTextFileSync(
    new URL("../../../scripts/permissions.txt", import.meta.url),
  ).split("\n").filter((l) => !l.startsWith("#"));
  const granted = (flag: string) =>
    perms.filter((l) => l.startsWith(`${flag}=`)).flatMap((l) =>
      l.slice(flag.length + 1).split(",")
    );
  const sockets = [...ALLOWED_BUS_SOCKETS].sort();
  assertEquals(
    granted("--allow-net").filter((p) => p.startsWith("unix:")).sort(),
    sockets.map((s) => `unix:${s}`),
  );
  assertEquals(granted("--allow-write").filter((p) => p.includes("dbus")).sort(), sockets);
});

Deno.test("plainSocketPath() names the socket only where dbus-next opens a plain connect to a path", () => {
  const cases: [string, string | null][] = [
    ["unix:path=/run/dbus/system_bus_socket", "/run/dbus/system_bus_socket"],
    ["UNIX:path=/run/dbus/system_bus_socket", "/run/dbus/system_bus_socket"],
    ["unix:guid=1,path=/run/dbus/x", "/run/dbus/x"],
    ["unix:path=/run/a;unix:path=/run/b", "/run/a"],
    // dbus-next prefers socket= and abstract= to path=.
    ["unix:path=/run/a,abstract=/tmp/x", null],
    ["unix:socket=/run/a,path=/run/b", null],
    ["unix:abstract=/tmp/dbus-x", null],
    ["tcp:host=localhost,port=1234", null],
    ["unix:path=", null],
    // dbus-next skips an empty first address; whatever it then does is its own.
    [";unix:path=/run/a", null],
    ["unix", null],
    ["", null],
  ];
  for (const [address, path] of cases) assertEquals(plainSocketPath(address), path, address);
});
