import { assertEquals } from "../../assert.ts";
import { describeRemoval, planRemoval, renderRemoval } from "../../../src/iptables/cleanup.ts";
import { parseSave } from "../../../src/iptables/save_parser.ts";

const C = (t: string) => `-m comment --comment "kuma/mesh/transparent/proxy/${t}"`;

const DUMP = [
  "*raw",
  ":PREROUTING ACCEPT [0:0]",
  ":OUTPUT ACCEPT [0:0]",
  "-A OUTPUT -p udp -m udp --dport 999 -j NOTRACK",
  `-A OUTPUT -p udp ${C("zone")} -m udp --dport 53 -j CT --zone 2`,
  `-A OUTPUT -p udp ${C("zone")} -m udp --dport 53 -j CT --zone 2`,
  "COMMIT",
  "*nat",
  ":OUTPUT ACCEPT [0:0]",
  ":KUMA_MESH_INBOUND - [0:0]",
  ":KUMA_MESH_INBOUND_REDIRECT - [0:0]",
  ":MY_CHAIN - [0:0]",
  `-A OUTPUT ! -d 10.0.0.0/8 -p tcp ${C("envoy\\'s port")} -j KUMA_MESH_INBOUND`,
  '-A OUTPUT -m comment --comment "kuma" -j MY_CHAIN',
  "-A KUMA_MESH_INBOUND -j KUMA_MESH_INBOUND_REDIRECT",
  "-A KUMA_MESH_INBOUND_REDIRECT -p tcp -j REDIRECT --to-ports 15006",
  `-A MY_CHAIN ${C("tagged in a foreign chain")} -j RETURN`,
  "-A MY_CHAIN -j RETURN",
  "COMMIT",
  "*filter",
  ":INPUT ACCEPT [0:0]",
  "-A INPUT -j ACCEPT",
  "COMMIT",
].join("\n");

Deno.test("planRemoval() deletes each of our rules by its exact spec, once per occurrence", () => {
  const removals = planRemoval(parseSave(DUMP));
  assertEquals(removals, [
    {
      table: "raw",
      deletes: [
        `-D OUTPUT -p udp ${C("zone")} -m udp --dport 53 -j CT --zone 2`,
        `-D OUTPUT -p udp ${C("zone")} -m udp --dport 53 -j CT --zone 2`,
      ],
      chains: [],
      flushed: [],
    },
    {
      table: "nat",
      deletes: [
        `-D OUTPUT ! -d 10.0.0.0/8 -p tcp ${C("envoy\\'s port")} -j KUMA_MESH_INBOUND`,
        `-D MY_CHAIN ${C("tagged in a foreign chain")} -j RETURN`,
      ],
      chains: ["KUMA_MESH_INBOUND", "KUMA_MESH_INBOUND_REDIRECT"],
      // Listed and counted only: the flush of our chains removes them.
      flushed: [
        "-D KUMA_MESH_INBOUND -j KUMA_MESH_INBOUND_REDIRECT",
        "-D KUMA_MESH_INBOUND_REDIRECT -p tcp -j REDIRECT --to-ports 15006",
      ],
    },
  ]);
});

Deno.test("renderRemoval() flushes every chain of ours before deleting any", () => {
  const text = renderRemoval(planRemoval(parseSave(DUMP)));
  assertEquals(
    text.split("\n").filter((l) => /^(\*|-F|-X|COMMIT)/.test(l)),
    [
      "*raw",
      "COMMIT",
      "*nat",
      "-F KUMA_MESH_INBOUND",
      "-F KUMA_MESH_INBOUND_REDIRECT",
      "-X KUMA_MESH_INBOUND",
      "-X KUMA_MESH_INBOUND_REDIRECT",
      "COMMIT",
    ],
  );
  // Nothing foreign is ever named.
  for (const foreign of ["NOTRACK", "MY_CHAIN -j RETURN", '"kuma"', "*filter"]) {
    assertEquals(text.includes(foreign), false, foreign);
  }
});

Deno.test("renderRemoval() is empty when nothing is ours", () => {
  assertEquals(
    renderRemoval(planRemoval(parseSave("*nat\n:OUTPUT ACCEPT\n-A OUTPUT -j RETURN\nCOMMIT\n"))),
    "",
  );
});

Deno.test("describeRemoval() prefixes each line with its table, one line per rule or chain", () => {
  const lines = describeRemoval(planRemoval(parseSave(DUMP)));
  assertEquals(lines.length, 8);
  assertEquals(
    lines[5],
    "-t nat -D KUMA_MESH_INBOUND_REDIRECT -p tcp -j REDIRECT --to-ports 15006",
  );
  assertEquals(lines[0].startsWith("-t raw -D OUTPUT "), true);
  assertEquals(lines.at(-1), "-t nat -X KUMA_MESH_INBOUND_REDIRECT");
});
