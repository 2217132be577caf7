/**
 * openFirewalld() (src/firewalld/connect.ts) answers without dbus-next when
 * the bus socket does not exist; it must answer exactly what dbus-next's
 * client answers there, and leave every other address to dbus-next. Each
 * case runs every FirewalldBus operation through both and compares what
 * comes back: the value, or the error's class, code, operation and message.
 *
 * No firewalld and no namespace: the sockets are paths in a temp directory.
 * Needs --allow-all (dbus-next connects through node:net).
 */
import { assertEquals, assertStringIncludes } from "../assert.ts";
import { connectFirewalld, type FirewalldBus } from "../../src/firewalld/bus.ts";
import { openFirewalld } from "../../src/firewalld/connect.ts";
import type { DirectChain, DirectRule } from "../../src/firewalld/direct_entries.ts";
import { FirewalldError } from "../../src/firewalld/errors.ts";

const chain: DirectChain = { kind: "chain", ipv: "ipv4", table: "nat", chain: "KUMA_MESH_X" };
const rule: DirectRule = { ...chain, kind: "rule", priority: 0, args: ["-j", "RETURN"] };

/** Every operation's outcome, in a form assertEquals can compare. */
async function outcomes(connect: () => FirewalldBus | Promise<FirewalldBus>): Promise<unknown[]> {
  const show = (e: unknown) =>
    e instanceof FirewalldError
      ? { error: e.name, code: e.code, operation: e.operation, message: e.message }
      : { error: e instanceof Error ? e.name : typeof e, message: String(e) };
  let bus: FirewalldBus;
  try {
    bus = await connect();
  } catch (e) {
    return [{ connect: show(e) }];
  }
  const calls: (() => Promise<unknown>)[] = [
    () => bus.state(),
    () => bus.isRunning(),
    () => bus.version(),
    () => bus.getRuntimeChains(),
    () => bus.getRuntimeRules(),
    () => bus.getRuntimePassthroughs(),
    () => bus.addRuntimeChain(chain),
    () => bus.addRuntimeRule(rule),
    () => bus.removeRuntimeRule(rule),
    () => bus.removeRuntimeChain(chain),
    () => bus.getPermanent(),
    () => bus.updatePermanent({ chains: [], rules: [], passthroughs: [] }),
    () => bus.reload(),
  ];
  const out: unknown[] = [];
  for (const call of calls) out.push(await call().then((value) => ({ value }), show));
  bus.close();
  return out;
}

Deno.test({
  name: "openFirewalld() answers as dbus-next's client does, with and without a socket at the path",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "ktp-no-bus-" });
    try {
      await Deno.writeTextFile(`${dir}/not_a_socket`, "");
      await Deno.symlink(`${dir}/nowhere`, `${dir}/dangling`);
      const cases: [string, string][] = [
        [`unix:path=${dir}/missing`, "connect ENOENT"],
        [`unix:path=${dir}/no/such/dir/socket`, "connect ENOENT"],
        [`unix:path=${dir}/missing;unix:path=${dir}/not_a_socket`, "connect ENOENT"],
        // Not short-cut: something is at the path, or it is not a plain path.
        [`unix:path=${dir}/not_a_socket`, "failed"],
        [`unix:path=${dir}/dangling`, "failed"],
        [`unix:abstract=${dir}/missing`, ""],
      ];
      for (const [address, detail] of cases) {
        const real = await outcomes(() => connectFirewalld({ address, timeoutMs: 5000 }));
        const ours = await outcomes(() => openFirewalld({ address, timeoutMs: 5000 }));
        assertEquals(ours, real, address);
        assertStringIncludes(JSON.stringify(real), detail, address);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
