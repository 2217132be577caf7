import { assertEquals, assertStringIncludes } from "../../assert.ts";
import type { Backend } from "../../../src/config/types.ts";
import { choosePersistence, type FirewalldPresence } from "../../../src/systemd/choice.ts";

const ask = (
  backend: Backend,
  storeFirewalld: boolean,
  storeSystemd: boolean,
  firewalld: FirewalldPresence,
) => choosePersistence({ backend, storeFirewalld, storeSystemd, firewalld });

/** [backend, --store-firewalld, --store-systemd, firewalld] -> [firewalld, systemd, removeUnit, note?] */
const TABLE: [Backend, boolean, boolean, FirewalldPresence, boolean, boolean, boolean, boolean][] =
  [
    ["iptables", false, false, "running", false, false, false, false],
    ["iptables", true, false, "running", true, false, true, false],
    ["iptables", true, false, "absent", true, false, true, false], // install's check refuses it
    ["iptables", false, true, "running", false, true, false, false],
    ["iptables", false, true, "absent", false, true, false, false],
    ["iptables", true, true, "running", true, false, true, true],
    ["iptables", true, true, "stopped", true, false, true, true],
    ["iptables", true, true, "absent", false, true, false, true],
    ["nftables", false, false, "running", false, false, false, false],
    ["nftables", false, true, "running", false, true, false, false],
    ["nftables", true, true, "running", false, true, false, true],
    ["nftables", true, true, "absent", false, true, false, true],
    ["nftables", true, false, "running", false, false, false, true],
  ];

for (const [backend, f, s, presence, wantF, wantS, removeUnit, note] of TABLE) {
  Deno.test(`choosePersistence() ${backend}, --store-firewalld=${f}, --store-systemd=${s}, firewalld ${presence}`, () => {
    const c = ask(backend, f, s, presence);
    assertEquals([c.firewalld, c.systemd, c.removeUnit, c.note !== undefined], [
      wantF,
      wantS,
      removeUnit,
      note,
    ]);
  });
}

Deno.test("choosePersistence() says why when it does not do both", () => {
  assertStringIncludes(ask("iptables", true, true, "running").note!, "flushes");
  assertStringIncludes(ask("iptables", true, true, "absent").note!, "not installed");
  assertStringIncludes(ask("nftables", true, false, "running").note!, "--store-systemd");
});
