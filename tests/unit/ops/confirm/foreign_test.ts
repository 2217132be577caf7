import { assertEquals } from "../../../assert.ts";
import { foreignChanges, foreignLines } from "../../../../src/ops/confirm/foreign.ts";
import { parseSave } from "../../../../src/iptables/save_parser.ts";

const BEFORE = `*nat
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A OUTPUT -d 10.0.0.1/32 -j RETURN
COMMIT
*filter
:INPUT ACCEPT [0:0]
-A INPUT -p tcp --dport 22 -j ACCEPT
COMMIT
`;

/** BEFORE with our installation added, and counters moved. */
const APPLIED = `*nat
:PREROUTING ACCEPT [12:720]
:OUTPUT ACCEPT [3:180]
:KUMA_MESH_OUTBOUND - [0:0]
-A PREROUTING -p tcp -m comment --comment "kuma/mesh/transparent/proxy/x" -j KUMA_MESH_OUTBOUND
-A OUTPUT -d 10.0.0.1/32 -j RETURN
-A KUMA_MESH_OUTBOUND -p tcp -j REDIRECT --to-ports 15001
COMMIT
*filter
:INPUT ACCEPT [40:4000]
-A INPUT -p tcp --dport 22 -j ACCEPT
COMMIT
`;

Deno.test("foreignChanges(): our rules and counters are no change", () => {
  assertEquals(foreignChanges(parseSave(BEFORE), parseSave(APPLIED)), []);
});

Deno.test("foreignChanges() names each table whose foreign rules, chains or policies changed", () => {
  const cases: [string, string, string[]][] = [
    ["a rule added", APPLIED.replace("COMMIT\n*filter", "-A OUTPUT -j ACCEPT\nCOMMIT\n*filter"), [
      "nat",
    ]],
    ["a rule removed", APPLIED.replace("-A INPUT -p tcp --dport 22 -j ACCEPT\n", ""), ["filter"]],
    ["a policy changed", APPLIED.replace(":INPUT ACCEPT [40:4000]", ":INPUT DROP [40:4000]"), [
      "filter",
    ]],
    [
      "a chain added",
      APPLIED.replace(":OUTPUT ACCEPT [3:180]\n", ":OUTPUT ACCEPT [3:180]\n:ADMIN - [0:0]\n"),
      [
        "nat",
      ],
    ],
    ["a table added", APPLIED + "*raw\n:OUTPUT ACCEPT [0:0]\n-A OUTPUT -j CT --notrack\nCOMMIT\n", [
      "raw",
    ]],
    [
      "a rule moved",
      APPLIED.replace(
        "-A INPUT -p tcp --dport 22 -j ACCEPT\n",
        "-A INPUT -p udp -j ACCEPT\n-A INPUT -p tcp --dport 22 -j ACCEPT\n",
      ),
      ["filter"],
    ],
  ];
  for (const [what, now, tables] of cases) {
    assertEquals(foreignChanges(parseSave(BEFORE), parseSave(now)), tables, what);
  }
});

Deno.test("foreignChanges(): a table that only appeared empty (iptables-nft lists it) is no change", () => {
  const now = APPLIED + "*raw\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n";
  assertEquals(foreignChanges(parseSave(BEFORE), parseSave(now)), []);
});

Deno.test("foreignLines() leaves out our chains and rules, wherever they are", () => {
  assertEquals(foreignLines(parseSave(APPLIED)), [
    "-t nat :PREROUTING ACCEPT",
    "-t nat :OUTPUT ACCEPT",
    "-t nat -A OUTPUT -d 10.0.0.1/32 -j RETURN",
    "-t filter :INPUT ACCEPT",
    "-t filter -A INPUT -p tcp --dport 22 -j ACCEPT",
  ]);
});
