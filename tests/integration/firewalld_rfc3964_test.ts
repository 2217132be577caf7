/**
 * rfc3964Ipv4Enabled() agrees with what a real firewalld 1.3 makes of the
 * same firewalld.conf (its `RFC3964_IPv4` config property over D-Bus).
 */
import { assertEquals, assertStringIncludes } from "../assert.ts";
import { rfc3964Ipv4Enabled } from "../../src/firewalld/rfc3964.ts";
import { withFirewalld } from "../world/firewalld.ts";

for (const setting of [undefined, true, false]) {
  const name = setting === undefined ? "stock" : `RFC3964_IPv4=${setting ? "yes" : "no"}`;
  Deno.test(`rfc3964Ipv4Enabled() reads a ${name} firewalld.conf as firewalld does`, () =>
    withFirewalld({ tag: "frfc", rfc3964Ipv4: setting }, async (world) => {
      assertEquals(await world.start(), "running");
      const reply = await world.ns.runner.run("dbus-send", [
        "--system",
        "--print-reply",
        "--dest=org.fedoraproject.FirewallD1",
        "/org/fedoraproject/FirewallD1/config",
        "org.freedesktop.DBus.Properties.Get",
        "string:org.fedoraproject.FirewallD1.config",
        "string:RFC3964_IPv4",
      ], { env: world.env });
      assertEquals(reply.code, 0, reply.stderr);
      const conf = await Deno.readTextFile(world.firewalldConfPath);
      const ours = rfc3964Ipv4Enabled(conf);
      assertEquals(ours, setting ?? true);
      assertStringIncludes(reply.stdout.toLowerCase(), `string "${ours ? "yes" : "no"}"`);
    }));
}
