/**
 * Our rules for kumactl's three golden cases, as `kuma-tproxy install
 * --dry-run` prints them, loaded into a fresh network namespace and read
 * back, must equal the iptables-save output kumactl itself produced
 * (tests/testdata/kuma-goldens, Debian 12, nft backend).
 *
 * Comments are stripped from both sides: our wording differs where kumactl's
 * had a quote (`envoy's`), which firewalld cannot carry. No fix of a kumactl
 * quirk (docs/kumactl.md, K8) changes a rule of these three cases, so the
 * expected side is used as is.
 *
 * Needs root and `ip netns` (run with --allow-all).
 */
import { buildRuleSet } from "../../src/rules/build.ts";
import type { Family } from "../../src/rules/model.ts";
import { renderOptionsFor, renderRestore } from "../../src/rules/render.ts";
import { assertEquals } from "../assert.ts";
import { CASES, configForCase, factsForCase, getCase } from "../cases.ts";
import { withNetns } from "../world/netns.ts";
import { addIPv6, caseInvocation, ensureKumaDp, runCli, splitDryRun } from "./cli_run.ts";

const GOLDENS = new URL("../testdata/kuma-goldens/", import.meta.url);
const KUMACTL_CASES = ["default", "with-multiple-flags", "with-multiple-config-flags"];

const dryRuns = new Map<string, Promise<Partial<Record<Family, string>>>>();

/**
 * The restore text our tool prints for a case and family: the section of
 * `kuma-tproxy install --dry-run <case flags>` run through the real CLI in a
 * namespace with an IPv6 address (so IPv6 is planned, as on a dual-stack
 * host). One CLI run per case serves both families.
 */
export function dryRunText(caseName: string, family: Family): Promise<string> {
  if (!dryRuns.has(caseName)) dryRuns.set(caseName, runDryRun(caseName));
  return dryRuns.get(caseName)!.then((sections) => {
    const text = sections[family];
    if (text === undefined) throw new Error(`${caseName}: the dry run printed no IPv${family}`);
    return text;
  });
}

async function runDryRun(caseName: string): Promise<Partial<Record<Family, string>>> {
  await ensureKumaDp();
  const inv = await caseInvocation(getCase(caseName));
  try {
    return await withNetns("kgd", async (ns) => {
      await addIPv6(ns);
      const r = await runCli(["install", "--dry-run", ...inv.flags], {
        netns: ns,
        env: inv.env,
        stdin: inv.stdin,
      });
      assertEquals(r.code, 0, `install --dry-run of ${caseName}: ${r.stderr}`);
      return splitDryRun(r.stdout);
    });
  } finally {
    await inv.cleanup();
  }
}

/**
 * Normalises iptables-save output as cases.yaml describes (no `#` lines, no
 * `[0:0]` counters, `-o <if>` as `-o ifPlaceholder`), and also drops every
 * `-m comment --comment "..."` so that comment wording does not count.
 */
export function normaliseSave(text: string): string[] {
  return text.split("\n")
    .filter((line) => line.trim() !== "" && !line.startsWith("#"))
    .map((line) =>
      line
        .replace(/ \[\d+:\d+\]$/, "")
        .replace(/ -o \S+/g, " -o ifPlaceholder")
        .replace(/ -m comment --comment "(?:[^"\\]|\\.)*"/g, "")
        .trimEnd()
    );
}

/**
 * Our chain declarations and rules per table, leaving out tables without any:
 * what both backends must agree on whatever order they list tables in.
 */
function rulesByTable(lines: string[]): Record<string, string[]> {
  const tables: Record<string, string[]> = {};
  let current = "";
  for (const line of lines) {
    if (line.startsWith("*")) current = line.slice(1);
    else if (line.startsWith("-A ") || line.startsWith(":KUMA_MESH")) {
      (tables[current] ??= []).push(line);
    }
  }
  return tables;
}

function tools(family: Family, backend: "nft" | "legacy") {
  const base = family === 4 ? "iptables" : "ip6tables";
  return { restore: `${base}-${backend}-restore`, save: `${base}-${backend}-save` };
}

async function loadAndSave(text: string, family: Family, backend: "nft" | "legacy") {
  const { restore, save } = tools(family, backend);
  return await withNetns(`kg${backend[0]}${family}`, async (ns) => {
    await ns.exec(restore, ["--noflush"], text);
    return await ns.exec(save, []);
  });
}

async function golden(caseName: string, family: Family): Promise<string[]> {
  const file = `debian-12-${caseName}.${family === 4 ? "iptables" : "ip6tables"}-nft.golden`;
  return normaliseSave(await Deno.readTextFile(new URL(file, GOLDENS)));
}

for (const caseName of KUMACTL_CASES) {
  for (const family of [4, 6] as const) {
    Deno.test(
      `dryRunText() of case ${caseName} saves as kumactl's IPv${family} nft golden`,
      async () => {
        const saved = await loadAndSave(await dryRunText(caseName, family), family, "nft");
        assertEquals(normaliseSave(saved), await golden(caseName, family));
      },
    );
    Deno.test(
      `dryRunText() of case ${caseName} loads with the legacy backend too (IPv${family})`,
      async () => {
        const saved = await loadAndSave(await dryRunText(caseName, family), family, "legacy");
        // Legacy lists tables in another order and shows every table its
        // modules loaded, so compare only our chains and rules, per table.
        assertEquals(
          rulesByTable(normaliseSave(saved)),
          rulesByTable(await golden(caseName, family)),
        );
      },
    );
  }
}

for (const backend of ["nft", "legacy"] as const) {
  Deno.test(`renderRestore() output of every case loads with iptables-${backend}-restore, short and verbose`, async () => {
    for (const c of CASES) {
      for (const family of [4, 6] as const) {
        for (const verbose of [false, true]) {
          const config = await configForCase(c.name);
          config.verbose = verbose;
          const facts = factsForCase(c.name, family);
          const text = renderRestore(
            buildRuleSet(config, facts).ruleSet,
            renderOptionsFor(config, facts.functionality),
          );
          if (text === "") continue;
          const saved = await loadAndSave(text, family, backend);
          const expectedRules = text.split("\n").filter((l) =>
            /^(-A|-I|--append|--insert) /.test(l)
          );
          const savedRules = saved.split("\n").filter((l) => l.startsWith("-A "));
          assertEquals(
            savedRules.length,
            expectedRules.length,
            `${c.name} IPv${family}${verbose ? " verbose" : ""}: rule count after restore`,
          );
        }
      }
    }
  });
}
