import { assertEquals, assertThrows } from "../../assert.ts";
import { planRemoval } from "../../../src/iptables/cleanup.ts";
import { mergeRestore, recreateText, splitTables } from "../../../src/iptables/restore_text.ts";
import { parseSave } from "../../../src/iptables/save_parser.ts";

const C = (t: string) => `-m comment --comment "kuma/mesh/transparent/proxy/${t}"`;

Deno.test("splitTables() reads kumactl's `* nat` headers and skips comments", () => {
  assertEquals(
    splitTables(
      "* raw\n# Rules:\n-A OUTPUT -j CT --zone 1\nCOMMIT\n\n* nat\n-N KUMA_MESH_X\nCOMMIT\n",
    ),
    [
      { name: "raw", lines: ["-A OUTPUT -j CT --zone 1"] },
      { name: "nat", lines: ["-N KUMA_MESH_X"] },
    ],
  );
  assertThrows(() => splitTables("-A OUTPUT -j RETURN\n"), SyntaxError);
});

Deno.test("mergeRestore() puts removal and new rules of a table under one COMMIT", () => {
  const old = parseSave([
    "*nat",
    ":OUTPUT ACCEPT",
    ":KUMA_MESH_OUTBOUND -",
    `-A OUTPUT ${C("old")} -j KUMA_MESH_OUTBOUND`,
    "-A KUMA_MESH_OUTBOUND -j RETURN",
    "COMMIT",
    "*mangle",
    ":PREROUTING ACCEPT",
    `-A PREROUTING ${C("drop")} -m conntrack --ctstate INVALID -j DROP`,
    "COMMIT",
  ].join("\n"));
  const rules =
    `* raw\n-A OUTPUT ${C("zone")} -j CT --zone 1\nCOMMIT\n* nat\n-N KUMA_MESH_OUTBOUND\n` +
    `-I OUTPUT 1 ${C("new")} -j KUMA_MESH_OUTBOUND\n-A KUMA_MESH_OUTBOUND -j RETURN\nCOMMIT\n`;
  assertEquals(
    mergeRestore(planRemoval(old), rules),
    [
      "*nat",
      `-D OUTPUT ${C("old")} -j KUMA_MESH_OUTBOUND`,
      "-F KUMA_MESH_OUTBOUND",
      "-X KUMA_MESH_OUTBOUND",
      "-N KUMA_MESH_OUTBOUND",
      `-I OUTPUT 1 ${C("new")} -j KUMA_MESH_OUTBOUND`,
      "-A KUMA_MESH_OUTBOUND -j RETURN",
      "COMMIT",
      "*mangle",
      `-D PREROUTING ${C("drop")} -m conntrack --ctstate INVALID -j DROP`,
      "COMMIT",
      "*raw",
      `-A OUTPUT ${C("zone")} -j CT --zone 1`,
      "COMMIT",
      "",
    ].join("\n"),
  );
});

Deno.test("mergeRestore() is empty with nothing to remove or add", () => {
  assertEquals(mergeRestore([], ""), "");
});

Deno.test("recreateText() re-inserts our rules at their original positions in ascending order", () => {
  const dump = parseSave([
    "*nat",
    ":OUTPUT ACCEPT",
    ":KUMA_MESH_A -",
    ":KUMA_MESH_B -",
    `-A OUTPUT ${C("first")} -j RETURN`,
    "-A OUTPUT -j ACCEPT",
    `-A OUTPUT ${C("third")} -j KUMA_MESH_A`,
    "-A OUTPUT -j DROP",
    `-A OUTPUT ${C("fifth")} -j RETURN`,
    "-A KUMA_MESH_A -j KUMA_MESH_B",
    "-A KUMA_MESH_B -j RETURN",
    "COMMIT",
    "*filter",
    ":INPUT ACCEPT",
    "-A INPUT -j ACCEPT",
    "COMMIT",
  ].join("\n"));
  assertEquals(
    recreateText(dump),
    [
      "*nat",
      "-N KUMA_MESH_A",
      "-N KUMA_MESH_B",
      `-I OUTPUT 1 ${C("first")} -j RETURN`,
      `-I OUTPUT 3 ${C("third")} -j KUMA_MESH_A`,
      `-I OUTPUT 5 ${C("fifth")} -j RETURN`,
      "-A KUMA_MESH_A -j KUMA_MESH_B",
      "-A KUMA_MESH_B -j RETURN",
      "COMMIT",
      "",
    ].join("\n"),
  );
});
