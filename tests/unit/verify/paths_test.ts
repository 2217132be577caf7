import { assertEquals } from "../../assert.ts";
import { defaultConfig } from "../../../src/config/defaults.ts";
import { parseIpOrCidr, parseUidExclusion } from "../../../src/config/values.ts";
import type { Config } from "../../../src/config/types.ts";
import { appUid, contains, outboundPort, planProbes } from "../../../src/verify/paths.ts";
import { judge } from "../../../src/verify/judge.ts";
import type { Probe } from "../../../src/verify/paths.ts";

function config(change: (c: Config) => void = () => {}): Config {
  const c = defaultConfig();
  change(c);
  return c;
}

Deno.test("contains() matches addresses and CIDRs of one family", () => {
  assertEquals(contains(parseIpOrCidr("192.0.2.0/24"), "192.0.2.1"), true);
  assertEquals(contains(parseIpOrCidr("192.0.2.0/25"), "192.0.2.200"), false);
  assertEquals(contains(parseIpOrCidr("203.0.113.1"), "203.0.113.1"), true);
  assertEquals(contains(parseIpOrCidr("2001:db8::/32"), "2001:db8::1"), true);
  assertEquals(contains(parseIpOrCidr("2001:db9::/32"), "2001:db8::1"), false);
  assertEquals(contains(parseIpOrCidr("10.0.0.0/8"), "2001:db8::1"), false);
});

Deno.test("the probe port and UID avoid exclusions", () => {
  assertEquals(outboundPort(config()), 80);
  assertEquals(outboundPort(config((c) => c.redirect.outbound.excludePorts = [80, 443])), 8080);
  assertEquals(outboundPort(config((c) => c.redirect.outbound.includePorts = [53, 8443])), 8443);
  assertEquals(appUid(config(), 5678), 65534);
  assertEquals(appUid(config(), 65534), 65533);
  const excluded = config((c) =>
    c.redirect.outbound.excludePortsForUIDs = [parseUidExclusion("65530-65534")]
  );
  assertEquals(appUid(excluded, 5678), 4242);
});

Deno.test("planProbes() probes each promised path and names what it leaves", () => {
  const c = config((c) => {
    c.redirect.dns.enabled = true;
    c.redirect.dns.captureAll = true;
    c.redirect.outbound.excludePorts = [9091];
    c.redirect.outbound.excludePortsForIPs = [
      parseIpOrCidr("192.0.2.0/24"),
      parseIpOrCidr("fd00::1"),
    ];
  });
  const plan = planProbes({
    config: c,
    kumaDpUid: 5678,
    families: [4, 6],
    skipped: [],
    resolvConf: { nameservers: [] },
  });
  assertEquals(
    plan.probes.map((p) => `${p.path} ${p.sender} ${p.proto} ${p.addr}:${p.port} ${p.expect}`),
    [
      "outbound IPv4 app tcp 198.51.100.1:80 redirect",
      "kuma-dp direct IPv4 kuma-dp tcp 198.51.100.1:80 direct",
      "excluded port 9091 IPv4 app tcp 198.51.100.1:9091 direct",
      "excluded address 192.0.2.1 app tcp 192.0.2.1:80 direct",
      "DNS IPv4 app udp 192.0.2.1:53 redirect",
      "outbound IPv6 app tcp 2001:db8::1:80 redirect",
      "kuma-dp direct IPv6 kuma-dp tcp 2001:db8::1:80 direct",
      "excluded port 9091 IPv6 app tcp 2001:db8::1:9091 direct",
      "DNS IPv6 app udp 2001:db8::1:53 redirect",
    ],
  );
  assertEquals(plan.unchecked.map((u) => u.path), ["excluded addresses IPv6", "inbound"]);
});

Deno.test("planProbes() says why a path is not checked", () => {
  const c = config((c) => {
    c.redirect.outbound.enabled = false;
    c.redirect.dns.enabled = true;
  });
  const plan = planProbes({
    config: c,
    kumaDpUid: 5678,
    families: [4],
    skipped: [{ family: 6, reason: "IPv6 is disabled on this host" }],
    resolvConf: { nameservers: [] },
  });
  assertEquals(plan.probes, []);
  assertEquals(
    plan.unchecked.map((u) => `${u.path}: ${u.reason.split(" ").slice(0, 3).join(" ")}`),
    [
      "all IPv6 paths: IPv6 is disabled",
      "outbound IPv4: outbound redirection is",
      "DNS IPv4: /etc/resolv.conf names no",
      "inbound: inbound redirection needs",
    ],
  );
});

Deno.test("planProbes() sends DNS to each IPv4 nameserver of /etc/resolv.conf, and says what it leaves", () => {
  const dns = (captureAll: boolean) =>
    config((c) => {
      c.redirect.dns.enabled = true;
      c.redirect.dns.captureAll = captureAll;
    });
  const nameservers = ["127.0.0.53", "10.0.0.2", "::ffff:10.0.0.2", "fd00::2", "not-an-ip"];
  const plan = planProbes({
    config: dns(false),
    kumaDpUid: 5678,
    families: [4, 6],
    skipped: [],
    resolvConf: { nameservers },
  });
  const line = (p: Probe) =>
    `${p.path} ${p.sender} ${p.proto} ${p.addr}:${p.port} ${p.expect} ${p.redirectPort}` +
    (p.answersDirect ? " answers-direct" : "");
  assertEquals(plan.probes.filter((p) => p.proto === "udp").map(line), [
    "DNS to nameserver 127.0.0.53 app udp 127.0.0.53:53 redirect 15053 answers-direct",
    "DNS to nameserver 10.0.0.2 app udp 10.0.0.2:53 redirect 15053 answers-direct",
  ]);
  assertEquals(plan.unchecked.map((u) => u.path), [
    "DNS from the local resolver 127.0.0.53",
    "DNS to nameserver fd00::2",
    "inbound",
  ]);
  const unchecked = Object.fromEntries(plan.unchecked.map((u) => [u.path, u.reason]));
  assertEquals(
    unchecked["DNS from the local resolver 127.0.0.53"],
    "checked: an application's query to 127.0.0.53 lands on port 15053; not checked: " +
      "the resolver's own queries to its upstream servers (systemd-resolved: `resolvectl dns`), " +
      "which go direct unless --redirect-all-dns-traffic",
  );
  assertEquals(
    unchecked["DNS to nameserver fd00::2"],
    "verify may send DNS to port 53 of every IPv4 address (0.0.0.0/0:53) only " +
      "(its Deno permissions have no IPv6 range)",
  );

  // With every query redirected: a documentation address too, and the
  // local resolver's own queries are covered by it.
  const all = planProbes({
    config: dns(true),
    kumaDpUid: 5678,
    families: [4],
    skipped: [],
    resolvConf: { nameservers },
  });
  assertEquals(all.probes.filter((p) => p.proto === "udp").map(line), [
    "DNS IPv4 app udp 192.0.2.1:53 redirect 15053",
    "DNS to nameserver 127.0.0.53 app udp 127.0.0.53:53 redirect 15053 answers-direct",
    "DNS to nameserver 10.0.0.2 app udp 10.0.0.2:53 redirect 15053 answers-direct",
  ]);
  assertEquals(all.unchecked.map((u) => u.path), ["inbound"]);

  const unread = planProbes({
    config: dns(false),
    kumaDpUid: 5678,
    families: [4],
    skipped: [],
    resolvConf: { error: "No such file or directory" },
  });
  assertEquals(unread.unchecked.map((u) => `${u.path}: ${u.reason}`), [
    "DNS IPv4: cannot read /etc/resolv.conf: No such file or directory",
    "inbound: " + unread.unchecked[1].reason,
  ]);
});

const probe = (expect: Probe["expect"]): Probe => ({
  path: "p",
  family: 4,
  proto: "tcp",
  sender: "app",
  addr: "192.0.2.1",
  port: 80,
  expect,
  redirectPort: 15001,
});
const result = (outcome: "connected" | "timeout" | "refused" | "no-route" | "error") => ({
  id: 0,
  outcome,
  detail: outcome,
});

Deno.test("judge(): only an acceptance on this host proves a redirect", () => {
  const v = (
    e: Probe["expect"],
    o: Parameters<typeof result>[0],
    l: "ours" | "theirs" | "none",
    seen = false,
  ) => judge(probe(e), result(o), l, seen).verdict;
  assertEquals(v("redirect", "connected", "theirs"), "ok");
  assertEquals(v("redirect", "timeout", "theirs"), "failed");
  assertEquals(v("redirect", "connected", "ours", true), "ok");
  // Accepted, but not by our listener (it did not see the nonce): not proven.
  assertEquals(v("redirect", "connected", "ours", false), "failed");
  assertEquals(v("redirect", "refused", "none"), "failed");
  assertEquals(v("redirect", "no-route", "theirs"), "unchecked");
  assertEquals(v("direct", "timeout", "theirs"), "ok");
  assertEquals(v("direct", "connected", "theirs"), "failed");
  assertEquals(v("direct", "timeout", "ours", true), "failed");
  // Nothing listens: a wrong redirect is refused like a direct packet may be.
  assertEquals(v("direct", "refused", "none"), "unchecked");
  assertEquals(v("direct", "no-route", "ours"), "unchecked");
  // A probe that could not run proves nothing: never "direct".
  assertEquals(v("direct", "error", "theirs"), "failed");
  assertEquals(
    judge(probe("redirect"), result("error"), "theirs", false).reason,
    "could not probe: error",
  );
});

Deno.test("judge(): an answer from a real nameserver proves a redirect only to verify's own listener", () => {
  const ns: Probe = {
    ...probe("redirect"),
    proto: "udp",
    addr: "10.0.0.2",
    port: 53,
    redirectPort: 15053,
    answersDirect: true,
  };
  const answered = { id: 0, outcome: "answered" as const, detail: "answered" };
  const theirs = judge(ns, answered, "theirs", false);
  assertEquals(theirs.verdict, "unchecked");
  assertEquals(
    theirs.reason,
    "answered, but 10.0.0.2:53 answers a direct query too, so the listener on port 15053 " +
      "cannot be told from it; verify --listen proves it while nothing else listens on port 15053",
  );
  assertEquals(judge(ns, answered, "ours", true).verdict, "ok");
  // Answered, by the nameserver itself: our listener never saw it.
  assertEquals(judge(ns, answered, "ours", false).verdict, "failed");
  assertEquals(judge(ns, { ...answered, outcome: "timeout" }, "theirs", false).verdict, "failed");
});
