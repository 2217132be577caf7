import { canonicalAddress } from "../../../src/net/address.ts";
import {
  canonicalRule,
  canonicalRules,
  canonicalSavedRules,
} from "../../../src/iptables/canonical.ts";
import { parseSave, tokenize } from "../../../src/iptables/save_parser.ts";
import { assertEquals, assertNotEquals, assertThrows } from "../../assert.ts";

const C = "kuma/mesh/transparent/proxy/x";
const rule = (chain: string, spec: string) => canonicalRule(chain, tokenize(spec));

/** Asserts that both specs have the same canonical form in chain OUTPUT. */
function same(ours: string, saved: string) {
  assertEquals(rule("OUTPUT", ours), rule("OUTPUT", saved));
}

function differ(a: string, b: string) {
  assertNotEquals(rule("OUTPUT", a), rule("OUTPUT", b));
}

Deno.test("canonicalRule() equates our order with iptables-save's, implicit -m udp and /32", () => {
  same(
    `-m comment --comment "${C}" -p udp -d 10.0.0.2 --dport 53 -j REDIRECT --to-ports 15053`,
    `-d 10.0.0.2/32 -p udp -m comment --comment "${C}" -m udp --dport 53 -j REDIRECT --to-ports 15053`,
  );
  assertEquals(
    rule("OUTPUT", `-p udp -d 10.0.0.2 --dport 53 -j REDIRECT --to-ports 15053`),
    "-A OUTPUT -d 10.0.0.2/32 -p udp -m udp --dport 53 -j REDIRECT --to-ports 15053",
  );
});

Deno.test("canonicalRule() equates long option names with short ones", () => {
  same(
    `--match comment --comment "${C}" --protocol tcp ! --destination 127.0.0.1/32 --out-interface lo --source 127.0.0.6 --in-interface eth0 --destination-port 80 --source-port 1:2 --jump RETURN`,
    `-s 127.0.0.6/32 ! -d 127.0.0.1/32 -i eth0 -o lo -p tcp -m comment --comment "${C}" -m tcp --sport 1:2 --dport 80 -j RETURN`,
  );
  same("--goto X", "-g X");
  differ("-g X", "-j X");
});

Deno.test("canonicalRule() clears host bits and writes IPv6 as inet_ntop does", () => {
  same("-d ::1/64 -j RETURN", "-d ::/64 -j RETURN");
  same("-s 172.32.16.8/16 -j RETURN", "-s 172.32.0.0/16 -j RETURN");
  same("-s FE80:0:0::1 -j RETURN", "-s fe80::1/128 -j RETURN");
  same("-s 10.1.2.3/255.255.0.0 -j RETURN", "-s 10.1.0.0/16 -j RETURN");
  differ("-d ::1/128 -j RETURN", "-d ::/128 -j RETURN");
  differ("-d 10.0.0.0/8 -j RETURN", "-d 10.0.0.0/16 -j RETURN");
});

Deno.test("canonicalAddress() handles zero runs, dotted tails and non-addresses", () => {
  assertEquals(
    canonicalAddress("a81b:a033:6399:73c7:72b6:aa8c:6f22:7098"),
    "a81b:a033:6399:73c7:72b6:aa8c:6f22:7098/128",
  );
  assertEquals(canonicalAddress("1:0:0:2:0:0:0:3"), "1:0:0:2::3/128");
  assertEquals(canonicalAddress("1:0:2:3:4:5:6:7"), "1:0:2:3:4:5:6:7/128"); // a single zero group stays
  assertEquals(canonicalAddress("::ffff:10.0.0.1"), "::ffff:10.0.0.1/128");
  assertEquals(canonicalAddress("fd00::/8"), "fd00::/8");
  assertEquals(canonicalAddress("::"), "::/128");
  assertEquals(canonicalAddress("example.com"), "example.com");
  assertEquals(canonicalAddress("10.0.0.1/33"), "10.0.0.1/33");
});

Deno.test("canonicalRule() writes multiport --dport as --dports and owner ranges with a dash", () => {
  same(
    "-p tcp -m multiport --dport 53,3000:5000 -m owner --uid-owner 106:108 -j RETURN",
    "-p tcp -m multiport --dports 53,3000:5000 -m owner --uid-owner 106-108 -j RETURN",
  );
  same(
    "-p tcp -m multiport --destination-ports 1,2 -j RETURN",
    "-p tcp -m multiport --dports 1,2 -j RETURN",
  );
  same("-m owner --uid-owner 7:7 -j RETURN", "-m owner --uid-owner 7 -j RETURN");
  differ(
    "-p tcp -m multiport --dports 1,2 -j RETURN",
    "-p tcp -m multiport --sports 1,2 -j RETURN",
  );
  differ("-m owner --uid-owner 106-108 -j RETURN", "-m owner --uid-owner 106-109 -j RETURN");
});

Deno.test("canonicalRule() keeps negations, in either syntax", () => {
  same("-m owner ! --uid-owner 5678 -j RETURN", "-m owner ! --uid-owner 5678 -j RETURN");
  same("-p tcp --dport ! 22 -j RETURN", "-p tcp -m tcp ! --dport 22 -j RETURN");
  differ("-m owner ! --uid-owner 5678 -j RETURN", "-m owner --uid-owner 5678 -j RETURN");
  differ("! -d 10.0.0.1 -j RETURN", "-d 10.0.0.1 -j RETURN");
});

Deno.test("canonicalRule() reads quoted and escaped values and quotes them the same way", () => {
  same(`-m comment --comment "a b" -j RETURN`, `-m comment --comment a\\ b -j RETURN`);
  same(`-m comment --comment "envoy's" -j RETURN`, `-m comment --comment "envoy\\'s" -j RETURN`);
  assertEquals(
    rule("X", `-m comment --comment "a \\"b\\"" -j RETURN`),
    `-A X -m comment --comment "a \\"b\\"" -j RETURN`,
  );
  differ(`-m comment --comment "a b" -j RETURN`, `-m comment --comment "a  b" -j RETURN`);
});

Deno.test("canonicalRule() normalises conntrack states, protocols and LOG's default level", () => {
  same("-m conntrack --ctstate NEW,INVALID -j DROP", "-m conntrack --ctstate INVALID,NEW -j DROP");
  same("-p 17 -j RETURN", "-p udp -j RETURN");
  same("-j LOG --log-prefix X: --log-level 4", "-j LOG --log-prefix X:");
  same("-j LOG --log-level debug", "-j LOG --log-level 7");
  differ("-j LOG --log-level 5", "-j LOG");
});

Deno.test("canonicalRule() tells values, chains and targets apart", () => {
  differ(
    "-p udp --dport 53 -j REDIRECT --to-ports 15053",
    "-p udp --dport 54 -j REDIRECT --to-ports 15053",
  );
  differ(
    "-p udp --dport 53 -j REDIRECT --to-ports 15053",
    "-p udp --dport 53 -j REDIRECT --to-ports 15054",
  );
  differ("-p udp --dport 53 -j RETURN", "-p tcp --dport 53 -j RETURN");
  differ("-j CT --zone 1", "-j CT --zone 2");
  assertNotEquals(rule("INPUT", "-j RETURN"), rule("OUTPUT", "-j RETURN"));
});

Deno.test("canonicalRules() orders inserted rules before appended ones, per chain", () => {
  const text = [
    "*nat",
    "-N KUMA_MESH_B",
    "-N KUMA_MESH_A",
    "-A OUTPUT -j KUMA_MESH_A",
    "-I OUTPUT 1 -j RETURN",
    "-I OUTPUT 2 -p tcp -j RETURN",
    "-A KUMA_MESH_A -j ACCEPT",
    "-I PREROUTING 1 -j KUMA_MESH_B",
    "COMMIT",
    "*raw",
    "COMMIT",
    "",
  ].join("\n");
  assertEquals(Object.fromEntries(canonicalRules(text)), {
    nat: [
      "-N KUMA_MESH_A",
      "-N KUMA_MESH_B",
      "-A PREROUTING -j KUMA_MESH_B",
      "-A OUTPUT -j RETURN",
      "-A OUTPUT -p tcp -j RETURN",
      "-A OUTPUT -j KUMA_MESH_A",
      "-A KUMA_MESH_A -j ACCEPT",
    ],
  });
});

Deno.test("canonicalRules() reads the verbose form like the short one", () => {
  const short =
    `*nat\n-N KUMA_MESH_X\n-I OUTPUT 1 -m comment --comment "${C}" -p tcp -j KUMA_MESH_X\nCOMMIT\n`;
  const verbose =
    `*nat\n# Custom Chains:\n--new-chain KUMA_MESH_X\n\n# Rules:\n--insert OUTPUT 1 --match comment --comment "${C}" --protocol tcp --jump KUMA_MESH_X\n\nCOMMIT\n`;
  assertEquals(canonicalRules(verbose), canonicalRules(short));
});

Deno.test("canonicalRules() with oursOnly keeps our chains and tagged rules", () => {
  const text =
    `*nat\n-N KUMA_MESH_X\n-N OTHER\n-A OUTPUT -j OTHER\n-A OUTPUT -m comment --comment "${C}" -j KUMA_MESH_X\n-A KUMA_MESH_X -j RETURN\nCOMMIT\n`;
  assertEquals(canonicalRules(text, { oursOnly: true }).get("nat"), [
    "-N KUMA_MESH_X",
    `-A OUTPUT -m comment --comment ${C} -j KUMA_MESH_X`,
    "-A KUMA_MESH_X -j RETURN",
  ]);
});

Deno.test("canonicalRules() rejects lines that are not restore input", () => {
  assertThrows(() => canonicalRules("-A OUTPUT -j RETURN\n"), SyntaxError);
  assertThrows(() => canonicalRules("*nat\n-D OUTPUT 1\nCOMMIT\n"), SyntaxError);
});

Deno.test("canonicalSavedRules() equals canonicalRules() of the text that was loaded", () => {
  const loaded =
    `*nat\n-N KUMA_MESH_X\n-A OUTPUT -m comment --comment "${C}" -p udp --dport 53 -j KUMA_MESH_X\n-A KUMA_MESH_X -d 10.0.0.1 -j RETURN\nCOMMIT\n`;
  const saved = [
    "# Generated by iptables-save",
    "*nat",
    ":OUTPUT ACCEPT [0:0]",
    ":KUMA_MESH_X - [0:0]",
    ":FOREIGN - [0:0]",
    "-A OUTPUT -j FOREIGN",
    `-A OUTPUT -p udp -m comment --comment "${C}" -m udp --dport 53 -j KUMA_MESH_X`,
    "-A KUMA_MESH_X -d 10.0.0.1/32 -j RETURN",
    "COMMIT",
  ].join("\n");
  assertEquals(canonicalSavedRules(parseSave(saved)), canonicalRules(loaded));
  assertEquals(canonicalSavedRules(parseSave(saved), { oursOnly: false }).get("nat")?.length, 5);
});

Deno.test("canonicalRule() leaves out what matches every packet, as iptables-save does: -i +, -o +, /0", () => {
  const saved = rule("PREROUTING", "-p tcp -j REDIRECT --to-ports 15001");
  assertEquals(rule("PREROUTING", "-i + -p tcp -j REDIRECT --to-ports 15001"), saved);
  assertEquals(rule("PREROUTING", "-o + -d 0.0.0.0/0 -p tcp -j REDIRECT --to-ports 15001"), saved);
  assertEquals(rule("PREROUTING", "-s ::/0 -p tcp -j REDIRECT --to-ports 15001"), saved);
  // Negated, they match nothing; a named wildcard or a real prefix stays.
  assertNotEquals(rule("PREROUTING", "! -i + -p tcp -j REDIRECT --to-ports 15001"), saved);
  assertNotEquals(rule("PREROUTING", "! -d 0.0.0.0/0 -p tcp -j REDIRECT --to-ports 15001"), saved);
  assertNotEquals(rule("PREROUTING", "-i br+ -p tcp -j REDIRECT --to-ports 15001"), saved);
  assertNotEquals(rule("PREROUTING", "-d 0.0.0.0/1 -p tcp -j REDIRECT --to-ports 15001"), saved);
});
