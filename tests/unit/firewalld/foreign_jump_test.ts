import { assertEquals, assertStringIncludes, assertThrows } from "../../assert.ts";
import type { DirectEntry } from "../../../src/firewalld/direct_entries.ts";
import { FirewalldError } from "../../../src/firewalld/errors.ts";
import { assertNoForeignJump, type DirectPlace } from "../../../src/firewalld/foreign_jump.ts";

const admin: DirectEntry = {
  kind: "rule",
  ipv: "ipv4",
  table: "nat",
  chain: "PREROUTING",
  priority: -5,
  args: [
    "-p",
    "tcp",
    "--dport",
    "28",
    "-m",
    "comment",
    "--comment",
    "ops team",
    "-j",
    "KUMA_MESH_INBOUND",
  ],
};
const ours: DirectEntry = {
  ...admin,
  args: [
    "-p",
    "tcp",
    "-m",
    "comment",
    "--comment",
    "kuma/mesh/transparent/proxy/x",
    "-j",
    "KUMA_MESH_INBOUND",
  ],
};

Deno.test("assertNoForeignJump() names the rule, its place and how to remove it there", () => {
  const cases: [DirectPlace, string][] = [
    [
      { kind: "permanent" },
      "firewall-cmd --permanent --direct --remove-rule ipv4 nat PREROUTING -5 -p tcp --dport 28 " +
      "-m comment --comment 'ops team' -j KUMA_MESH_INBOUND, then firewall-cmd --reload",
    ],
    [
      { kind: "runtime" },
      "firewall-cmd --direct --remove-rule ipv4 nat PREROUTING -5 -p tcp --dport 28 " +
      "-m comment --comment 'ops team' -j KUMA_MESH_INBOUND",
    ],
    [
      { kind: "direct.xml", path: "/etc/firewalld/direct.xml" },
      "delete that <rule> from /etc/firewalld/direct.xml",
    ],
  ];
  for (const [place, remedy] of cases) {
    const e = assertThrows(() => assertNoForeignJump([ours, admin], place), FirewalldError);
    assertEquals(e.code, "foreign_jump");
    assertStringIncludes(e.message, "jumps to our chain KUMA_MESH_INBOUND");
    assertStringIncludes(
      e.message,
      "rule ipv4 nat PREROUTING -5 -p tcp --dport 28 -m comment --comment ops team -j KUMA_MESH_INBOUND",
    );
    assertStringIncludes(e.message, remedy);
    assertEquals(e.message.includes("\n"), false, "one line");
  }
});

Deno.test("assertNoForeignJump() passes ours, foreign rules and jumps to foreign chains", () => {
  const other: DirectEntry = { ...admin, args: ["-p", "tcp", "-j", "KUMA_MESHY"] };
  const chain: DirectEntry = {
    kind: "chain",
    ipv: "ipv4",
    table: "nat",
    chain: "KUMA_MESH_INBOUND",
  };
  assertNoForeignJump([ours, other, chain], { kind: "runtime" });
  assertNoForeignJump([], { kind: "permanent" });
});
