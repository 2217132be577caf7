/**
 * openFirewalld() without a bus socket answers without dbus-next, exactly as
 * dbus-next's client answers once its connect failed with ENOENT (the
 * comparison with the real client: tests/integration/firewalld_no_bus_test.ts).
 */
import { assertEquals, assertRejects } from "../../assert.ts";
import { openFirewalld } from "../../../src/firewalld/connect.ts";
import { FirewalldError } from "../../../src/firewalld/errors.ts";
import type { DirectChain, DirectRule } from "../../../src/firewalld/direct_entries.ts";

const chain: DirectChain = { kind: "chain", ipv: "ipv4", table: "nat", chain: "KUMA_MESH_X" };
const rule: DirectRule = { ...chain, kind: "rule", priority: 0, args: ["-j", "RETURN"] };

Deno.test("openFirewalld() with no socket at the path reads as no firewalld, and every call fails like dbus-next's", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/missing/system_bus_socket`;
    const address = `unix:path=${path}`;
    const bus = await openFirewalld({ address });
    assertEquals(await bus.state(), null);
    assertEquals(await bus.isRunning(), false);
    assertEquals(await bus.version(), null);
    const calls: [string, () => Promise<unknown>][] = [
      ["org.fedoraproject.FirewallD1.direct.getAllChains", () => bus.getRuntimeChains()],
      ["org.fedoraproject.FirewallD1.direct.getAllRules", () => bus.getRuntimeRules()],
      [
        "org.fedoraproject.FirewallD1.direct.getAllPassthroughs",
        () => bus.getRuntimePassthroughs(),
      ],
      ["org.fedoraproject.FirewallD1.direct.addChain", () => bus.addRuntimeChain(chain)],
      ["org.fedoraproject.FirewallD1.direct.addRule", () => bus.addRuntimeRule(rule)],
      ["org.fedoraproject.FirewallD1.direct.removeRule", () => bus.removeRuntimeRule(rule)],
      ["org.fedoraproject.FirewallD1.direct.removeChain", () => bus.removeRuntimeChain(chain)],
      ["org.fedoraproject.FirewallD1.config.direct.getSettings", () => bus.getPermanent()],
      [
        "org.fedoraproject.FirewallD1.config.direct.update",
        () => bus.updatePermanent({ chains: [], rules: [], passthroughs: [] }),
      ],
      ["org.fedoraproject.FirewallD1.reload", () => bus.reload()],
    ];
    for (const [operation, call] of calls) {
      const e = await assertRejects(call, FirewalldError);
      assertEquals([e.code, e.operation], ["bus", operation]);
      assertEquals(
        e.message,
        `D-Bus call ${operation} on ${address} failed: connect ENOENT ${path}`,
      );
    }
    bus.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("openFirewalld() refuses an address outside the granted sockets before looking at it", async () => {
  const e = await assertRejects(
    () => openFirewalld({ address: "unix:path=/nonexistent/bus", allowedOnly: true }),
    FirewalldError,
  );
  assertEquals(e.code, "bus_address");
});
