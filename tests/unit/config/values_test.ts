import { assertEquals, assertStringIncludes, assertThrows } from "../../assert.ts";
import {
  formatDuration,
  formatUidExclusion,
  formatVnet,
  interfaceNameProblem,
  parseBool,
  parseDurationMs,
  parseIpOrCidr,
  parseKumaDpUser,
  parsePort,
  parsePortList,
  parseUidExclusion,
  parseVnet,
  ValueError,
} from "../../../src/config/values.ts";

Deno.test("parsePort() accepts 1-65535 as number or decimal text", () => {
  assertEquals(parsePort(1), 1);
  assertEquals(parsePort("65535"), 65535);
  assertEquals(parsePort(" 80 "), 80);
  for (const bad of [0, 65536, 1.5, -1, "0", "70000", "0x50", "80a", "", "1e3"]) {
    const e = assertThrows(() => parsePort(bad), ValueError);
    assertEquals(e.expected, "1-65535");
  }
});

Deno.test("parsePortList() splits commas and treats empty text as no ports", () => {
  assertEquals(parsePortList(""), []);
  assertEquals(parsePortList("80, 443,8080"), [80, 443, 8080]);
  assertThrows(() => parsePortList("80,,443"), ValueError);
  assertThrows(() => parsePortList("80,0"), ValueError);
});

Deno.test("parseUidExclusion() reads uids, ports:uids and proto:ports:uids", () => {
  const all = { from: 1, to: 65535 };
  assertEquals(parseUidExclusion("1000"), {
    protocols: ["tcp", "udp"],
    ports: [all],
    uids: { from: 1000, to: 1000 },
  });
  assertEquals(parseUidExclusion("80,8000-8080:5-10"), {
    protocols: ["tcp", "udp"],
    ports: [{ from: 80, to: 80 }, { from: 8000, to: 8080 }],
    uids: { from: 5, to: 10 },
  });
  assertEquals(parseUidExclusion("udp:*:0").protocols, ["udp"]);
  assertEquals(parseUidExclusion("tcp,udp::7").ports, [all]);
  assertEquals(parseUidExclusion("*:53:7").protocols, ["tcp", "udp"]);
});

Deno.test("parseUidExclusion() rejects UID wildcards, UID lists and bad parts", () => {
  for (const bad of ["*", "1,2", "tcp:80:*", "sctp:80:1", "80:1:2:3", "90-80:1", "10-5", "x", ""]) {
    assertThrows(() => parseUidExclusion(bad), ValueError);
  }
});

Deno.test("parseIpOrCidr() knows the family and rejects sloppy addresses", () => {
  assertEquals(parseIpOrCidr(" 10.0.0.0/8 "), { text: "10.0.0.0/8", family: 4 });
  // IPv4-mapped is IPv4, as kumactl's To4() has it (issue 21 item 7); the rest of ::/96 is not.
  assertEquals(parseIpOrCidr("::ffff:1.2.3.4").family, 4);
  assertEquals(parseIpOrCidr("::1.2.3.4").family, 6);
  assertEquals(parseIpOrCidr("::fffe:1.2.3.4").family, 6);
  assertEquals(parseIpOrCidr("fd00::/8").family, 6);
  assertEquals(parseIpOrCidr("1:2:3:4:5:6:7:8/128").family, 6);
  for (
    const bad of [
      "256.0.0.1",
      "10.0.0",
      "010.0.0.1",
      "10.0.0.0/33",
      "::/129",
      "1::2::3",
      "1:2:3:4:5:6:7:8:9",
      "fe80::1%eth0",
      "10.0.0.0/",
      "example.com",
    ]
  ) {
    assertThrows(() => parseIpOrCidr(bad), ValueError);
  }
});

Deno.test("parseVnet() splits at the first colon so IPv6 CIDRs work", () => {
  assertEquals(parseVnet("docker0:::1/64"), {
    iface: "docker0",
    cidr: { text: "::1/64", family: 6 },
  });
  assertEquals(parseVnet("br+:172.17.0.0/16").iface, "br+");
  for (const bad of ["docker0", ":10.0.0.0/8", "eth0:10.0.0.1", "a+b:10.0.0.0/8", "eth0:1.2.3/8"]) {
    assertThrows(() => parseVnet(bad), ValueError);
  }
});

Deno.test("interfaceNameProblem() follows Linux's rules for interface names", () => {
  // 15 bytes is the most (IFNAMSIZ - 1), the + wildcard included; bytes, not characters.
  for (
    const ok of ["docker0", "br+", "+", "a".repeat(15), "a".repeat(14) + "+", "é".repeat(7) + "+"]
  ) {
    assertEquals(interfaceNameProblem(ok), undefined, ok);
  }
  const cases: [string, string][] = [
    ["", "has an empty interface name"],
    ["a".repeat(16), "has an interface name of 16 bytes (Linux allows at most 15)"],
    ["é".repeat(8), "has an interface name of 16 bytes (Linux allows at most 15)"],
    [".", 'has the interface name ".", which Linux refuses'],
    ["..", 'has the interface name "..", which Linux refuses'],
    ["a/b", "has an interface name with '/'"],
    ['do"cker', `has an interface name with '"'`],
    ["dock'er", `has an interface name with '''`],
    ["dock\\er", "has an interface name with '\\'"],
    ["dock er", "has an interface name with a control or whitespace character (U+0020)"],
    ["dock\ter", "has an interface name with a control or whitespace character (U+0009)"],
    ["dock\x01", "has an interface name with a control or whitespace character (U+0001)"],
    ["br+x", "has an interface name with '+' before its end (iptables' wildcard is a final +)"],
  ];
  for (const [name, problem] of cases) assertEquals(interfaceNameProblem(name), problem, name);
});

Deno.test("parseVnet() names the interface problem and the rules", () => {
  const e = assertThrows(() => parseVnet(`do"ck'er:172.17.0.0/16`), ValueError);
  assertEquals(e.reason, `has an interface name with '"'`);
  assertStringIncludes(e.expected, "1-15 bytes");
});

Deno.test("parseDurationMs() reads Go durations, nanoseconds and kumactl's quoted form", () => {
  assertEquals(parseDurationMs("2s"), 2000);
  assertEquals(parseDurationMs("1m30s"), 90_000);
  assertEquals(parseDurationMs("1.5h"), 5_400_000);
  assertEquals(parseDurationMs("250us"), 0.25);
  assertEquals(parseDurationMs('"500ms"'), 500);
  assertEquals(parseDurationMs(3_000_000_000), 3000);
  assertEquals(parseDurationMs("3000000000"), 3000);
  for (const bad of ["", "s", "2x", "-2s", "2s3", "two seconds"]) {
    assertThrows(() => parseDurationMs(bad), ValueError);
  }
  assertThrows(() => parseDurationMs(-1), ValueError);
});

Deno.test("formatDuration() writes what Go's Duration.String() writes", () => {
  const cases: [number, string][] = [
    [0, "0s"],
    [2000, "2s"],
    [90_000, "1m30s"],
    [3_600_000, "1h0m0s"],
    [500, "500ms"],
    [1500, "1.5s"],
    [0.001, "1µs"],
    [1e-6, "1ns"],
  ];
  for (const [ms, text] of cases) {
    assertEquals(formatDuration(ms), text);
    assertEquals(parseDurationMs(text), ms);
  }
});

Deno.test("parseBool() accepts exactly Go's strconv.ParseBool set", () => {
  for (const t of ["1", "t", "T", "TRUE", "true", "True"]) assertEquals(parseBool(t), true);
  for (const f of ["0", "f", "F", "FALSE", "false", "False"]) assertEquals(parseBool(f), false);
  for (const bad of ["yes", "on", "tRuE", "", "2"]) {
    assertEquals(assertThrows(() => parseBool(bad), ValueError).expected, "true or false");
  }
});

const UID_FORMS: [string, string][] = [
  ["1000", "1000"],
  ["*:*:1000", "1000"],
  ["tcp,udp:1-65535:1000", "1000"],
  [" 5-10 ", "5-10"],
  ["80,8000-8080:5-10", "80,8000-8080:5-10"],
  ["*:53:7", "53:7"],
  ["udp::0", "udp:*:0"],
  ["UDP,tcp:53:7", "udp,tcp:53:7"],
  ["tcp:80,443:1000", "tcp:80,443:1000"],
];

for (const [typed, written] of UID_FORMS) {
  Deno.test(`formatUidExclusion() writes ${JSON.stringify(typed)} as ${written}, which parses back the same`, () => {
    const parsed = parseUidExclusion(typed);
    assertEquals(formatUidExclusion(parsed), written);
    assertEquals(parseUidExclusion(written), parsed);
  });
}

Deno.test("formatVnet() writes iface:CIDR, which parses back the same", () => {
  for (const typed of ["docker0:172.17.0.0/16", " br+:fd00::/64", "iface:::1/64"]) {
    const parsed = parseVnet(typed);
    assertEquals(formatVnet(parsed), typed.trim());
    assertEquals(parseVnet(formatVnet(parsed)), parsed);
  }
});

Deno.test("parseKumaDpUser() refuses a number above the highest UID, keeps names and UIDs", () => {
  for (const ok of ["kuma-dp", "0", "5678", "4294967294", "05678", "+0", "u4294967296"]) {
    assertEquals(parseKumaDpUser(ok), ok);
  }
  for (
    const bad of ["4294967295", "4294967296", "18446744073709551616", "99999999999999999999999"]
  ) {
    const e = assertThrows(() => parseKumaDpUser(bad), ValueError);
    assertEquals([e.reason, e.expected], ["is not a UID", "a user name or a UID 0-4294967294"]);
  }
});

Deno.test("parseIpOrCidr() writes an IPv4-mapped address or CIDR as the IPv4 one it stands for", () => {
  const cases: [string, string][] = [
    ["::ffff:10.0.0.1", "10.0.0.1"],
    [" ::FFFF:a00:1 ", "10.0.0.1"],
    ["0:0:0:0:0:ffff:10.0.0.1", "10.0.0.1"],
    ["::ffff:10.0.0.1/128", "10.0.0.1/32"],
    ["::ffff:10.0.0.0/104", "10.0.0.0/8"],
    ["::ffff:0.0.0.0/96", "0.0.0.0/0"],
  ];
  for (const [input, ipv4] of cases) {
    assertEquals(parseIpOrCidr(input), { text: ipv4, family: 4 }, input);
  }
  for (const spans of ["::ffff:10.0.0.0/95", "::ffff:10.0.0.0/8", "::ffff:0.0.0.0/0"]) {
    const e = assertThrows(() => parseIpOrCidr(spans), ValueError);
    assertStringIncludes(e.reason, "IPv4-mapped CIDR shorter than /96");
  }
});
