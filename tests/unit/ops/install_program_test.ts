/**
 * installProgram(): every combination of the facts install decides on, one
 * row each: the steps in order, what the kernel transaction persists, and
 * the rollback order.
 */
import { assertEquals } from "../../assert.ts";
import { type InstallFacts, installProgram } from "../../../src/ops/install_program.ts";
import { BASE_FACTS as BASE } from "./_install_facts.ts";

/** A step as one word; apply-kernel with its pretest and persist steps. */
function shown(facts: Partial<InstallFacts>): { steps: string[]; rollback: string[] } {
  const program = installProgram({ ...BASE, ...facts });
  return {
    steps: program.steps.map((s) =>
      s.kind === "apply-kernel"
        ? `apply-kernel(${s.pretest ? "pretest" : "own test"}; ${
          s.commit.map((t) => `${t.name}:${t.want}`).join(", ")
        })`
        : s.kind === "prepare-target" || s.kind === "commit-target"
        ? `${s.kind} ${s.target.name}:${s.target.want}`
        : s.kind
    ),
    rollback: program.rollback,
  };
}

const KERNEL = "kernel rules (each family's previous rules restored)";
const BOOT = "boot files (the previous ones put back)";
const STAGED_UNIT = "staged systemd (discarded)";
const STAGED_XML = "staged direct.xml (discarded)";
const XML = "direct.xml (the previous file kept)";

const CASES: { name: string; facts: Partial<InstallFacts>; steps: string[]; rollback: string[] }[] =
  [
    {
      name: "no firewalld, no persistence: the kernel only, with the pretest",
      facts: {},
      steps: ["apply-kernel(pretest; )"],
      rollback: [KERNEL],
    },
    {
      name: "a dry run only prints, whatever else holds",
      facts: { dryRun: true, storeFirewalld: true, firewalld: "running", bootUnit: "write" },
      steps: ["print-dry-run"],
      rollback: [],
    },
    {
      name: "--store-systemd: staged first, committed last in the kernel transaction",
      facts: { bootUnit: "write" },
      steps: ["prepare-target systemd:ours", "apply-kernel(pretest; systemd:ours)"],
      rollback: [BOOT, KERNEL, STAGED_UNIT],
    },
    {
      name: "--store-firewalld, firewalld running: firewalld applies, no kernel apply",
      facts: { storeFirewalld: true, firewalld: "running" },
      steps: ["store-in-running-firewalld"],
      rollback: ["kernel rules (put back as read before, if firewalld leaves mid-way)"],
    },
    {
      name: "--store-firewalld, firewalld running, our old unit: removed after the store",
      facts: { storeFirewalld: true, firewalld: "running", bootUnit: "remove" },
      steps: ["store-in-running-firewalld", "remove-stale-unit"],
      rollback: ["kernel rules (put back as read before, if firewalld leaves mid-way)"],
    },
    {
      name: "--store-firewalld, firewalld stopped: direct.xml in the transaction, own test",
      facts: { storeFirewalld: true, firewalld: "stopped" },
      steps: ["prepare-target direct.xml:ours", "apply-kernel(own test; direct.xml:ours)"],
      rollback: [XML, KERNEL, STAGED_XML],
    },
    {
      name: "stale entries in a running firewalld: it removes them before the kernel changes",
      facts: { firewalld: "running", staleEntries: "dbus" },
      steps: ["remove-stale-firewalld-entries", "apply-kernel(own test; )"],
      rollback: [KERNEL],
    },
    {
      name: "stale entries in direct.xml: checked first, removed in the transaction",
      facts: { firewalld: "stopped", staleEntries: "direct.xml" },
      steps: ["prepare-target direct.xml:none", "apply-kernel(pretest; direct.xml:none)"],
      rollback: [XML, KERNEL, STAGED_XML],
    },
    {
      name: "stale direct.xml entries and --store-systemd: direct.xml, then the boot files",
      facts: { firewalld: "stopped", staleEntries: "direct.xml", bootUnit: "write" },
      steps: [
        "prepare-target direct.xml:none",
        "prepare-target systemd:ours",
        "apply-kernel(pretest; direct.xml:none, systemd:ours)",
      ],
      rollback: [BOOT, XML, KERNEL, STAGED_UNIT, STAGED_XML],
    },
    {
      name: "stale entries in a running firewalld and --store-systemd",
      facts: { firewalld: "running", staleEntries: "dbus", bootUnit: "write" },
      steps: [
        "prepare-target systemd:ours",
        "remove-stale-firewalld-entries",
        "apply-kernel(own test; systemd:ours)",
      ],
      rollback: [BOOT, KERNEL, STAGED_UNIT],
    },
    {
      name: "nftables: the marker, one nft -f, then our iptables rules go",
      facts: { backend: "nftables", firewalld: "running" },
      steps: ["record-nft-install", "apply-nft", "remove-iptables-leftovers"],
      rollback: ["nft table (the previous one put back)"],
    },
    {
      name: "nftables with --store-systemd: staged first, committed after the nft -f",
      facts: { backend: "nftables", bootUnit: "write" },
      steps: [
        "prepare-target systemd:ours",
        "record-nft-install",
        "apply-nft",
        "commit-target systemd:ours",
        "remove-iptables-leftovers",
      ],
      rollback: ["nft table (the previous one put back)", STAGED_UNIT],
    },
    {
      name: "nftables dry run only prints",
      facts: { backend: "nftables", dryRun: true, bootUnit: "write" },
      steps: ["print-dry-run"],
      rollback: [],
    },
    {
      name: "everything equals the plan: one step that writes nothing",
      facts: { current: "equal" },
      steps: ["report-unchanged"],
      rollback: [],
    },
    {
      name: "equal with --store-systemd: unchanged, the boot files not staged",
      facts: { current: "equal", bootUnit: "write" },
      steps: ["report-unchanged"],
      rollback: [],
    },
    {
      name: "equal with --store-firewalld and a running firewalld: no D-Bus store",
      facts: { current: "equal", storeFirewalld: true, firewalld: "running" },
      steps: ["report-unchanged"],
      rollback: [],
    },
    {
      name: "equal with --store-firewalld and a stopped firewalld: direct.xml not rewritten",
      facts: { current: "equal", storeFirewalld: true, firewalld: "stopped" },
      steps: ["report-unchanged"],
      rollback: [],
    },
    {
      name: "nftables equal, with --store-systemd: no marker, no nft -f, no commit",
      facts: { current: "equal", backend: "nftables", bootUnit: "write" },
      steps: ["report-unchanged"],
      rollback: [],
    },
    {
      name: "equal but a dry run: the dry run prints",
      facts: { current: "equal", dryRun: true },
      steps: ["print-dry-run"],
      rollback: [],
    },
    {
      name: "equal with --store-firewalld, no unit of ours left to remove: unchanged",
      facts: { current: "equal", storeFirewalld: true, firewalld: "running", bootUnit: "remove" },
      steps: ["report-unchanged"],
      rollback: [],
    },
    {
      name: "equal rules, but stale entries in direct.xml: the normal install",
      facts: { current: "equal", firewalld: "stopped", staleEntries: "direct.xml" },
      steps: ["prepare-target direct.xml:none", "apply-kernel(pretest; direct.xml:none)"],
      rollback: [XML, KERNEL, STAGED_XML],
    },
    {
      name: "equal rules, but stale entries in a running firewalld: the normal install",
      facts: { current: "equal", firewalld: "running", staleEntries: "dbus" },
      steps: ["remove-stale-firewalld-entries", "apply-kernel(own test; )"],
      rollback: [KERNEL],
    },
  ];

for (const c of CASES) {
  Deno.test(`installProgram() ${c.name}`, () => {
    assertEquals(shown(c.facts), { steps: c.steps, rollback: c.rollback });
  });
}
