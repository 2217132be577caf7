import { assertEquals, assertStringIncludes, assertThrows } from "../../../assert.ts";
import { deferPersistence } from "../../../../src/ops/confirm/defer.ts";
import { type InstallFacts, installProgram } from "../../../../src/ops/install_program.ts";

const BASE: InstallFacts = {
  backend: "iptables",
  firewalld: "absent",
  storeFirewalld: false,
  bootUnit: "leave",
  staleEntries: "none",
  dryRun: false,
};

function kinds(facts: Partial<InstallFacts>) {
  const d = deferPersistence(installProgram({ ...BASE, ...facts }));
  return {
    steps: d.program.steps.map((s) =>
      s.kind === "apply-kernel" ? `${s.kind}(${s.commit.length})` : s.kind
    ),
    targets: d.persist.targets.map((t) => `${t.name}:${t.want}`),
    removeUnit: d.persist.removeUnit,
  };
}

Deno.test("deferPersistence() keeps the kernel steps and moves every write read at boot to confirm", () => {
  const cases: [string, Partial<InstallFacts>, ReturnType<typeof kinds>][] = [
    ["no persistence", {}, { steps: ["apply-kernel(0)"], targets: [], removeUnit: false }],
    ["systemd", { bootUnit: "write" }, {
      steps: ["apply-kernel(0)"],
      targets: ["systemd:ours"],
      removeUnit: false,
    }],
    ["stopped firewalld", { firewalld: "stopped", storeFirewalld: true }, {
      steps: ["apply-kernel(0)"],
      targets: ["direct.xml:ours"],
      removeUnit: false,
    }],
    ["stale direct.xml", { firewalld: "stopped", staleEntries: "direct.xml" }, {
      steps: ["apply-kernel(0)"],
      targets: ["direct.xml:none"],
      removeUnit: false,
    }],
    ["firewalld took over from the unit", {
      firewalld: "stopped",
      storeFirewalld: true,
      bootUnit: "remove",
    }, { steps: ["apply-kernel(0)"], targets: ["direct.xml:ours"], removeUnit: true }],
    ["nftables with the unit", { backend: "nftables", bootUnit: "write" }, {
      steps: ["record-nft-install", "apply-nft", "remove-iptables-leftovers"],
      targets: ["systemd:ours"],
      removeUnit: false,
    }],
  ];
  for (const [what, facts, want] of cases) assertEquals(kinds(facts), want, what);
});

Deno.test("deferPersistence() refuses what would change a running firewalld's permanent config", () => {
  assertStringIncludes(
    assertThrows(() => kinds({ firewalld: "running", storeFirewalld: true }), RangeError).message,
    "--confirm-timeout cannot defer storing the rules through a running firewalld",
  );
  assertStringIncludes(
    assertThrows(() => kinds({ firewalld: "running", staleEntries: "dbus" }), RangeError).message,
    "removing our entries from a running firewalld",
  );
});
