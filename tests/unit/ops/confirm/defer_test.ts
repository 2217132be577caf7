import { assertEquals, assertStringIncludes, assertThrows } from "../../../assert.ts";
import { deferPersistence } from "../../../../src/ops/confirm/defer.ts";
import { type InstallFacts, installProgram } from "../../../../src/ops/install_program.ts";
import { BASE_FACTS as BASE } from "../_install_facts.ts";

function kinds(facts: Partial<InstallFacts>) {
  const d = deferPersistence(installProgram({ ...BASE, ...facts }));
  return {
    steps: d.program.steps.map((s) =>
      s.kind === "apply-kernel" ? `${s.kind}(${s.commit.length})` : s.kind
    ),
    targets: d.persist.targets.map((t) => `${t.name}:${t.want}`),
    removeUnit: d.persist.removeUnit,
    firewalld: d.persist.firewalld,
  };
}

Deno.test("deferPersistence() keeps the kernel steps and moves every write read at boot to confirm", () => {
  const cases: [string, Partial<InstallFacts>, ReturnType<typeof kinds>][] = [
    ["no persistence", {}, {
      steps: ["apply-kernel(0)"],
      targets: [],
      removeUnit: false,
      firewalld: false,
    }],
    ["systemd", { bootUnit: "write" }, {
      steps: ["apply-kernel(0)"],
      targets: ["systemd:ours"],
      removeUnit: false,
      firewalld: false,
    }],
    ["stopped firewalld", { firewalld: "stopped", storeFirewalld: true }, {
      steps: ["apply-kernel(0)"],
      targets: ["direct.xml:ours"],
      removeUnit: false,
      firewalld: false,
    }],
    ["stale direct.xml", { firewalld: "stopped", staleEntries: "direct.xml" }, {
      steps: ["apply-kernel(0)"],
      targets: ["direct.xml:none"],
      removeUnit: false,
      firewalld: false,
    }],
    ["firewalld took over from the unit", {
      firewalld: "stopped",
      storeFirewalld: true,
      bootUnit: "remove",
    }, {
      steps: ["apply-kernel(0)"],
      targets: ["direct.xml:ours"],
      removeUnit: true,
      firewalld: false,
    }],
    ["nftables with the unit", { backend: "nftables", bootUnit: "write" }, {
      steps: ["record-nft-install", "apply-nft", "remove-iptables-leftovers"],
      targets: ["systemd:ours"],
      removeUnit: false,
      firewalld: false,
    }],
  ];
  for (const [what, facts, want] of cases) assertEquals(kinds(facts), want, what);
});

Deno.test("deferPersistence(): a running firewalld gets the rules in its runtime config only", () => {
  const d = deferPersistence(
    installProgram({ ...BASE, firewalld: "running", storeFirewalld: true }),
  );
  assertEquals(d.program.steps, [{ kind: "store-in-running-firewalld", runtimeOnly: true }]);
  assertEquals(d.persist, { targets: [], removeUnit: false, firewalld: true });
});

Deno.test("deferPersistence() refuses taking our entries out of a running firewalld", () => {
  assertStringIncludes(
    assertThrows(() => kinds({ firewalld: "running", staleEntries: "dbus" }), RangeError).message,
    "--confirm-timeout cannot defer removing our entries from a running firewalld",
  );
});
