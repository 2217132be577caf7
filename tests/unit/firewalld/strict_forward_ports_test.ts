import { assertEquals, assertThrows } from "../../assert.ts";
import {
  assertInboundRedirectWorks,
  knowsStrictForwardPorts,
  strictForwardPorts,
} from "../../../src/firewalld/strict_forward_ports.ts";
import { FirewalldError } from "../../../src/firewalld/errors.ts";

const CASES: { conf: string | null; version: string | null; inbound: boolean; refuse: boolean }[] =
  [
    { conf: "StrictForwardPorts=yes\n", version: "2.3.1", inbound: true, refuse: true },
    { conf: "StrictForwardPorts = True\n", version: "2.4.0", inbound: true, refuse: true },
    { conf: "StrictForwardPorts=yes\n", version: null, inbound: true, refuse: true },
    { conf: "StrictForwardPorts=yes\n", version: "3.0.0", inbound: true, refuse: true },
    { conf: "StrictForwardPorts=yes\n", version: "2.3.1", inbound: false, refuse: false },
    { conf: "StrictForwardPorts=yes\n", version: "2.2.3", inbound: true, refuse: false },
    { conf: "StrictForwardPorts=yes\n", version: "1.3.3", inbound: true, refuse: false },
    { conf: "StrictForwardPorts=no\n", version: "2.3.1", inbound: true, refuse: false },
    { conf: "# StrictForwardPorts=yes\n", version: "2.3.1", inbound: true, refuse: false },
    {
      conf: "StrictForwardPorts=no\nStrictForwardPorts=yes\n",
      version: "2.3.1",
      inbound: true,
      refuse: false,
    },
    { conf: null, version: "2.3.1", inbound: true, refuse: false },
  ];

for (const c of CASES) {
  Deno.test(
    `assertInboundRedirectWorks(): ${
      JSON.stringify(c.conf)
    } on ${c.version}, inbound ${c.inbound} -> ${c.refuse ? "refuse" : "ok"}`,
    () => {
      const run = () => assertInboundRedirectWorks(c.conf, c.version, { inbound: c.inbound });
      if (!c.refuse) return run();
      const e = assertThrows(run, FirewalldError);
      assertEquals(e.code, "strict_forward_ports");
    },
  );
}

Deno.test("strictForwardPorts() and knowsStrictForwardPorts() read as firewalld does", () => {
  assertEquals(strictForwardPorts("StrictForwardPorts=\nStrictForwardPorts=yes\n"), true);
  assertEquals(strictForwardPorts("StrictForwardPorts=maybe\n"), false);
  assertEquals(knowsStrictForwardPorts("2.3.0"), true);
  assertEquals(knowsStrictForwardPorts("2.2.9"), false);
  assertEquals(knowsStrictForwardPorts("garbage"), true);
});
