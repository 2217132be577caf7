import { isLoopbackAddress, planDns } from "../../../src/rules/dns.ts";
import { assert, assertEquals } from "../../assert.ts";
import { config, facts, functionality } from "./helpers.ts";

const dns = config((c) => {
  c.redirect.dns.enabled = true;
  c.redirect.dns.resolvConfigPath = "/etc/resolv.conf";
});
const captureAll = config((c) => {
  c.redirect.dns.captureAll = true;
});

Deno.test("planDns() turns IPv6 DNS off with a warning when there are no IPv6 resolvers", () => {
  const { plan, warnings } = planDns(dns, facts(6, { nameservers: [] }));
  assertEquals(plan.enabled, false);
  assertEquals(plan.conntrackZoneSplit, false);
  assertEquals(warnings, [
    "no IPv6 DNS servers found in /etc/resolv.conf. DNS traffic capture for IPv6 will be disabled",
  ]);
});

Deno.test("planDns() keeps IPv6 DNS on with captureAll even without resolvers", () => {
  const { plan, warnings } = planDns(captureAll, facts(6, { nameservers: [] }));
  assertEquals([plan.enabled, plan.captureAll, plan.conntrackZoneSplit], [true, true, true]);
  assertEquals(warnings, []);
});

Deno.test("planDns() uses the resolvers of the family, and none with captureAll", () => {
  assertEquals(planDns(dns, facts(4, { nameservers: ["10.0.0.2"] })).plan.servers, ["10.0.0.2"]);
  assertEquals(planDns(captureAll, facts(4, { nameservers: ["10.0.0.2"] })).plan.servers, []);
});

Deno.test("planDns() warns that conntrack zone splitting needs the conntrack module", () => {
  const f = facts(4, { functionality: functionality((f) => (f.modules.conntrack = false)) });
  const { plan, warnings } = planDns(dns, f);
  assertEquals([plan.enabled, plan.conntrackZoneSplit], [true, false]);
  assertEquals(warnings.length, 1);
  assert(warnings[0].startsWith("conntrack zone splitting is disabled. This requires"));
  assert(warnings[0].includes("'conntrack'"));
});

Deno.test("planDns() disables the zone split for captureAll inside Docker with a warning", () => {
  const f = facts(4, { functionality: functionality((f) => (f.dockerOutput = true)) });
  const { plan, warnings } = planDns(captureAll, f);
  assertEquals(plan.conntrackZoneSplit, false);
  assertEquals(warnings, [
    "conntrack zone splitting is unsupported when capturing all DNS traffic inside Docker containers with custom networks",
  ]);
  // Per-resolver DNS keeps the split in Docker.
  assertEquals(planDns(dns, f).plan.conntrackZoneSplit, true);
});

Deno.test("planDns() skips the zone split silently when asked to", () => {
  const skip = config((c) => {
    c.redirect.dns.enabled = true;
    c.redirect.dns.skipConntrackZoneSplit = true;
  });
  const { plan, warnings } = planDns(skip, facts(4));
  assertEquals([plan.enabled, plan.conntrackZoneSplit, warnings.length], [true, false, 0]);
});

Deno.test("isLoopbackAddress() recognises 127.0.0.0/8 and ::1 only", () => {
  assertEquals(
    ["127.0.0.53", "127.0.0.11", "::1", "0:0:0:0:0:0:0:1", "10.0.0.2", "fd00::53", "::"].map(
      isLoopbackAddress,
    ),
    [true, true, true, true, false, false, false],
  );
});
