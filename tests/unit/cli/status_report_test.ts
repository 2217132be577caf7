import {
  bootTarget,
  diffTables,
  type LiveBackend,
  persistenceTarget,
  type PlannedFamily,
  statusReport,
} from "../../../src/ops/status_report.ts";
import { renderStatusText } from "../../../src/cli/status_text.ts";
import { assert, assertEquals, assertStringIncludes } from "../../assert.ts";

const NAT = ["-N KUMA_MESH_X", "-A OUTPUT -p tcp -j KUMA_MESH_X", "-A KUMA_MESH_X -j RETURN"];
const RAW = ["-A OUTPUT -p udp -m udp --dport 53 -j CT --zone 2"];
const rules = (nat: string[], raw: string[] = RAW) =>
  new Map([["raw", raw], ["nat", nat]].filter(([, l]) => l.length > 0) as [string, string[]][]);

const plan = (family: 4 | 6, mode: "nft" | "legacy" = "nft"): PlannedFamily => ({
  family,
  mode,
  expected: rules(NAT),
});
const live = (family: 4 | 6, mode: "nft" | "legacy", r = rules(NAT)): LiveBackend => ({
  family,
  mode,
  rules: r,
});
const empty = (family: 4 | 6, mode: "nft" | "legacy") => live(family, mode, new Map());

Deno.test("statusReport() is installed (0) when every planned family matches", () => {
  const { report, exitCode } = statusReport({
    planned: [plan(4), plan(6)],
    live: [live(4, "nft"), live(6, "nft"), empty(4, "legacy"), empty(6, "legacy")],
  });
  assertEquals(exitCode, 0);
  assertEquals(report.state, "installed");
  assertEquals(report.families.map((f) => [f.family, f.installed, f.matches]), [
    [4, true, true],
    [6, true, true],
  ]);
});

Deno.test("statusReport() is not installed (4) when no backend holds anything of ours", () => {
  const { report, exitCode } = statusReport({
    planned: [plan(4), plan(6)],
    live: [empty(4, "nft"), empty(6, "nft"), empty(4, "legacy")],
  });
  assertEquals(exitCode, 4);
  assertEquals(report.state, "not-installed");
  assert(report.families.every((f) => !f.installed && f.planned));
});

Deno.test("statusReport() is drift (3) when a value differs, naming the rules", () => {
  const changed = rules([
    "-N KUMA_MESH_X",
    "-A OUTPUT -p tcp -j KUMA_MESH_X",
    "-A KUMA_MESH_X -j ACCEPT",
  ]);
  const { report, exitCode } = statusReport({
    planned: [plan(4)],
    live: [live(4, "nft", changed)],
  });
  assertEquals(exitCode, 3);
  assertEquals(report.families[0].drift, [{
    table: "nat",
    missing: ["-A KUMA_MESH_X -j RETURN"],
    unexpected: ["-A KUMA_MESH_X -j ACCEPT"],
    reordered: false,
  }]);
});

Deno.test("statusReport() is drift (3) when only one planned family is installed", () => {
  const { report, exitCode } = statusReport({
    planned: [plan(4), plan(6)],
    live: [live(4, "nft"), empty(6, "nft")],
  });
  assertEquals(exitCode, 3);
  assertEquals(report.families.map((f) => f.installed), [true, false]);
});

Deno.test("statusReport() is drift (3) when our rules are also in the other backend", () => {
  const { report, exitCode } = statusReport({
    planned: [plan(4)],
    live: [live(4, "nft"), live(4, "legacy")],
  });
  assertEquals(exitCode, 3);
  assertEquals(report.families[0].otherBackends, [{ mode: "legacy", rules: 3, chains: 1 }]);
  assert(report.families[0].matches);
});

Deno.test("statusReport() compares with the backend the config uses, wherever the rules are", () => {
  const { report, exitCode } = statusReport({
    planned: [plan(4, "legacy")],
    live: [empty(4, "nft"), live(4, "legacy")],
  });
  assertEquals(exitCode, 0);
  assertEquals(report.families[0].backend, "legacy");
});

Deno.test("statusReport() reports our rules in a family the config does not install as drift", () => {
  const { report, exitCode } = statusReport({
    planned: [plan(4)],
    live: [live(4, "nft"), live(6, "legacy")],
  });
  assertEquals(exitCode, 3);
  const v6 = report.families[1];
  assertEquals([v6.family, v6.planned, v6.backend, v6.matches], [6, false, "legacy", false]);
  assertEquals(v6.drift.map((d) => d.unexpected.length), [1, 3]);
});

Deno.test("statusReport() passes persistence through and counts a mismatch as drift", () => {
  const persistence = {
    mechanism: "firewalld" as const,
    firewalld: "RUNNING",
    permanent: { rules: 11, chains: 1 },
    runtime: { rules: 11, chains: 1 },
    directXml: { rules: 11, chains: 1 },
    stored: true,
    matches: true,
  };
  const ok = statusReport({
    planned: [plan(4)],
    live: [live(4, "nft")],
    targets: [persistenceTarget(persistence)],
  });
  assertEquals(ok.report.targets[0].detail, persistence);
  assertEquals(ok.exitCode, 0);
  const stale = statusReport({
    planned: [plan(4)],
    live: [live(4, "nft")],
    targets: [persistenceTarget({ ...persistence, matches: false })],
  });
  assertEquals(stale.exitCode, 3);
  assertEquals(statusReport({ planned: [], live: [] }).report.targets, []);
});

Deno.test("statusReport() passes the boot unit through and counts a mismatch as drift", () => {
  const boot = {
    mechanism: "systemd" as const,
    unit: "ours" as const,
    config: "ours" as const,
    enabled: true,
    systemdRunning: false,
    matches: true,
    paths: {
      unit: "/etc/systemd/system/kuma-tproxy.service",
      config: "/etc/kuma-tproxy/boot.yaml",
    },
  };
  const ok = statusReport({
    planned: [plan(4)],
    live: [live(4, "nft")],
    targets: [bootTarget(boot)],
  });
  assertEquals([ok.report.targets[0].detail, ok.exitCode], [boot, 0]);
  const stale = statusReport({
    planned: [plan(4)],
    live: [live(4, "nft")],
    targets: [bootTarget({ ...boot, matches: false })],
  });
  assertEquals(stale.exitCode, 3);
  assertEquals(statusReport({ planned: [], live: [] }).report.targets, []);
});

Deno.test("diffTables() notices a changed order and counts duplicates", () => {
  const a = new Map([["nat", ["-A OUTPUT -j A", "-A OUTPUT -j B"]]]);
  const b = new Map([["nat", ["-A OUTPUT -j B", "-A OUTPUT -j A"]]]);
  assertEquals(diffTables(a, b), [{ table: "nat", missing: [], unexpected: [], reordered: true }]);
  const twice = new Map([["nat", ["-A OUTPUT -j A", "-A OUTPUT -j A"]]]);
  assertEquals(diffTables(twice, new Map([["nat", ["-A OUTPUT -j A"]]]))[0].missing, [
    "-A OUTPUT -j A",
  ]);
  assertEquals(diffTables(a, a), []);
});

Deno.test("renderStatusText() writes one line per family and names the drift", () => {
  const changed = rules(["-N KUMA_MESH_X", "-A OUTPUT -p tcp -j KUMA_MESH_X"]);
  const { report } = statusReport({
    planned: [plan(4), plan(6)],
    live: [live(4, "nft", changed), empty(6, "nft"), live(4, "legacy")],
  });
  assertEquals(
    renderStatusText(report),
    [
      "IPv4: installed (nft), differs from config (nat: 1 missing)",
      "  missing    nat: -A KUMA_MESH_X -j RETURN",
      "  also 3 rules and 1 chain of ours in legacy, which the config does not use (the kernel runs both backends; run uninstall, then install)",
      "IPv6: not installed (nft)",
      "",
    ].join("\n"),
  );
});

// runStatus() as non-root: tests/unit/cli/cli_test.ts (through cli(), exit 1).

Deno.test("statusReport() cannot confirm anything (3) when a backend could not be inspected", () => {
  const uninspected = [{ family: 6 as const, mode: "nft" as const, reason: "tools missing" }];
  for (const l of [[live(4, "nft")], [empty(4, "nft")]]) {
    const { report, exitCode } = statusReport({ planned: [plan(4)], live: l, uninspected });
    assertEquals(exitCode, 3);
    assertEquals(report.uninspected, uninspected);
  }
  const { report } = statusReport({ planned: [plan(4)], live: [live(4, "nft")], uninspected });
  assertStringIncludes(
    renderStatusText(report),
    "IPv6 (nft): cannot be inspected, our rules may be there: tools missing\n",
  );
});

Deno.test("statusReport() names a family the host does not configure without changing the exit code", () => {
  const skipped = [{ family: 6 as const, reason: "IPv6 is disabled on this host" }];
  const { report, exitCode } = statusReport({
    planned: [plan(4)],
    live: [live(4, "nft")],
    skipped,
  });
  assertEquals(exitCode, 0);
  assertStringIncludes(
    renderStatusText(report),
    "IPv6: not configured: IPv6 is disabled on this host\n",
  );
});

Deno.test("renderStatusText() counts stored entries as install does: rules and chains", () => {
  const c = { rules: 18, chains: 4 };
  const { report } = statusReport({
    planned: [plan(4)],
    live: [live(4, "nft")],
    targets: [persistenceTarget({
      mechanism: "firewalld",
      firewalld: "stopped",
      permanent: null,
      runtime: null,
      directXml: c,
      stored: true,
      matches: true,
    })],
  });
  assertStringIncludes(
    renderStatusText(report),
    "Persistence (firewalld, stopped): stored; direct.xml: 18 rules and 4 chains\n",
  );
});
