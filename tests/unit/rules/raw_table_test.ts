import { buildContext } from "../../../src/rules/context.ts";
import { buildRawTable } from "../../../src/rules/raw_table.ts";
import type { Config } from "../../../src/config/types.ts";
import type { BuildFacts } from "../../../src/rules/facts.ts";
import { assertEquals } from "../../assert.ts";
import { config, effectiveSpecs, facts, functionality } from "./helpers.ts";

function raw(c: Config, f: BuildFacts) {
  return buildRawTable(buildContext(c, f).context);
}

const dns = config((c) => {
  c.redirect.dns.enabled = true;
});

Deno.test("buildRawTable() splits conntrack zones per resolver", () => {
  const t = raw(dns, facts(4, { nameservers: ["10.0.0.2"] }));
  assertEquals(effectiveSpecs(t, "PREROUTING"), ["-s 10.0.0.2 -p udp --sport 53 -j CT --zone 1"]);
  assertEquals(effectiveSpecs(t, "OUTPUT"), [
    "-p udp --dport 53 -m owner --uid-owner 5678 -j CT --zone 1",
    "-p udp --sport 15053 -m owner --uid-owner 5678 -j CT --zone 2",
    "-d 10.0.0.2 -p udp --dport 53 -j CT --zone 2",
  ]);
});

Deno.test("buildRawTable() adds the localhost zone-1 rule after a loopback resolver", () => {
  const t = raw(dns, facts(4, { nameservers: ["127.0.0.53", "10.0.0.2"] }));
  assertEquals(effectiveSpecs(t, "OUTPUT").slice(2), [
    "-d 127.0.0.53 -p udp --dport 53 -j CT --zone 2",
    "-s 127.0.0.53 -d 127.0.0.1/32 -p udp -j CT --zone 1",
    "-d 10.0.0.2 -p udp --dport 53 -j CT --zone 2",
  ]);
  const v6 = raw(dns, facts(6, { nameservers: ["::1"] }));
  assertEquals(effectiveSpecs(v6, "OUTPUT").at(-1), "-s ::1 -d ::1/128 -p udp -j CT --zone 1");
});

Deno.test("buildRawTable() matches all DNS with captureAll", () => {
  const c = config((c) => {
    c.redirect.dns.captureAll = true;
    c.redirect.dns.port = 8888;
  });
  const t = raw(c, facts(6, { nameservers: [] }));
  assertEquals(effectiveSpecs(t, "PREROUTING"), ["-p udp --sport 53 -j CT --zone 1"]);
  assertEquals(effectiveSpecs(t, "OUTPUT"), [
    "-p udp --dport 53 -m owner --uid-owner 5678 -j CT --zone 1",
    "-p udp --sport 8888 -m owner --uid-owner 5678 -j CT --zone 2",
    "-p udp --dport 53 -j CT --zone 2",
  ]);
});

Deno.test("buildRawTable() is empty without DNS, with skip, or without the conntrack module", () => {
  assertEquals(raw(config(), facts(4)).rules, []);
  const skip = config((c) => {
    c.redirect.dns.enabled = true;
    c.redirect.dns.skipConntrackZoneSplit = true;
  });
  assertEquals(raw(skip, facts(4)).rules, []);
  const noConntrack = functionality((f) => (f.modules.conntrack = false));
  assertEquals(raw(dns, facts(4, { functionality: noConntrack })).rules, []);
  const noRaw = functionality((f) => (f.tables.raw = false));
  assertEquals(raw(dns, facts(4, { functionality: noRaw })).rules, []);
});
