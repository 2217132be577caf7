import { assertEquals, assertStringIncludes, assertThrows } from "../../assert.ts";
import { FirewalldError } from "../../../src/firewalld/errors.ts";
import { assertIpv6RedirectWorks, rfc3964Ipv4Enabled } from "../../../src/firewalld/rfc3964.ts";

Deno.test("rfc3964Ipv4Enabled() reads firewalld.conf like firewalld 1.3", () => {
  const cases: [string | null, boolean][] = [
    [null, true],
    ["", true],
    ["DefaultZone=public\nRFC3964_IPv4=yes\n", true],
    ["RFC3964_IPv4=no\n", false],
    ["  RFC3964_IPv4 = FALSE  \n", false],
    ["#RFC3964_IPv4=no\n;RFC3964_IPv4=no\n", true],
    ["RFC3964_IPv4=\nRFC3964_IPv4=no\n", false],
    ["RFC3964_IPv4=yes\nRFC3964_IPv4=no\n", true],
    ["RFC3964_IPv4=maybe\nRFC3964_IPv4=no\n", true],
    ["RFC3964_IPv4=no=really\n", true],
    ["RFC3964_IPv4=True\n", true],
  ];
  for (const [text, expected] of cases) {
    assertEquals(rfc3964Ipv4Enabled(text), expected, JSON.stringify(text));
  }
});

Deno.test("assertIpv6RedirectWorks() refuses dual stack with RFC3964_IPv4 on and names the remedies", () => {
  const e = assertThrows(
    () => assertIpv6RedirectWorks("RFC3964_IPv4=yes\n", { ipFamilyMode: "dualstack" }),
    FirewalldError,
  );
  assertEquals(e.code, "rfc3964_ipv4");
  assertStringIncludes(e.message, "RFC3964_IPv4=no");
  assertStringIncludes(e.message, "/etc/firewalld/firewalld.conf");
  assertStringIncludes(e.message, "--ip-family-mode ipv4");
  assertIpv6RedirectWorks("RFC3964_IPv4=yes\n", { ipFamilyMode: "ipv4" });
  assertIpv6RedirectWorks("RFC3964_IPv4=no\n", { ipFamilyMode: "dualstack" });
});

Deno.test("assertIpv6RedirectWorks() lets dual stack through on firewalld 2.3+ unless StrictForwardPorts=yes", () => {
  const stock = "RFC3964_IPv4=yes\n";
  const cases: [string, string | null | undefined, boolean][] = [
    [stock, "2.3.1", false],
    [stock, "2.3.0", false],
    [stock, "3.0.0", false],
    [stock, "2.2.3", true],
    [stock, "1.3.3", true],
    [stock, "0.9.3", true],
    [stock, null, true],
    [stock, undefined, true],
    [`${stock}StrictForwardPorts=yes\n`, "2.3.1", true],
    [`${stock}StrictForwardPorts=no\n`, "2.3.1", false],
  ];
  for (const [conf, version, refuses] of cases) {
    const run = () => assertIpv6RedirectWorks(conf, { ipFamilyMode: "dualstack", version });
    const what = `${JSON.stringify(conf)} on ${version}`;
    if (refuses) assertEquals(assertThrows(run, FirewalldError).code, "rfc3964_ipv4", what);
    else run();
  }
});
