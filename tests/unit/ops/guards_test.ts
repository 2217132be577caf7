import { assertEquals, assertStringIncludes } from "../../assert.ts";
import { lockoutWarnings, stoppedFirewalldWarning } from "../../../src/ops/guards.ts";
import { defaultConfig } from "../../../src/config/defaults.ts";

Deno.test("lockoutWarnings() warns about SSH only when port 22 listens and is redirected", () => {
  const config = defaultConfig();
  const ready = new Set([15001, 15006]);
  assertEquals(lockoutWarnings(config, { listeningPorts: ready, firewalldRunning: false }), []);
  const withSsh = new Set([...ready, 22]);
  const [w] = lockoutWarnings(config, { listeningPorts: withSsh, firewalldRunning: false });
  assertStringIncludes(w, "--exclude-inbound-ports 22");
  config.redirect.inbound.excludePorts = [22];
  assertEquals(lockoutWarnings(config, { listeningPorts: withSsh, firewalldRunning: false }), []);
  config.redirect.inbound.excludePorts = [];
  config.redirect.inbound.includePorts = [8080];
  assertEquals(lockoutWarnings(config, { listeningPorts: withSsh, firewalldRunning: false }), []);
});

Deno.test("lockoutWarnings() names the redirect ports nothing listens on", () => {
  const config = defaultConfig();
  const [w] = lockoutWarnings(config, {
    listeningPorts: new Set([15006]),
    firewalldRunning: false,
  });
  assertStringIncludes(w, "15001");
  config.redirect.outbound.enabled = false;
  assertEquals(
    lockoutWarnings(config, { listeningPorts: new Set([15006]), firewalldRunning: false }),
    [],
  );
});

Deno.test("lockoutWarnings() warns that a running firewalld flushes unstored rules", () => {
  const config = defaultConfig();
  const ports = new Set([15001, 15006]);
  const [w] = lockoutWarnings(config, { listeningPorts: ports, firewalldRunning: true });
  assertStringIncludes(w, "--store-firewalld");
  config.storeFirewalld = true;
  assertEquals(lockoutWarnings(config, { listeningPorts: ports, firewalldRunning: true }), []);
});

Deno.test("stoppedFirewalldWarning() only for iptables rules that a unit restores beside a stopped firewalld", () => {
  const iptables = { backend: "iptables" as const };
  assertEquals(
    stoppedFirewalldWarning(iptables, { firewalld: "stopped", unit: true })?.startsWith(
      "firewalld is installed but not running",
    ),
    true,
  );
  for (
    const [config, facts] of [
      [{ backend: "nftables" as const }, { firewalld: "stopped" as const, unit: true }],
      [iptables, { firewalld: "running" as const, unit: true }],
      [iptables, { firewalld: "absent" as const, unit: true }],
      [iptables, { firewalld: "stopped" as const, unit: false }],
      // firewalld 2.x with no direct entry of others leaves iptables alone at its start.
      [iptables, { firewalld: "stopped" as const, unit: true, leavesIptables: true }],
    ] as const
  ) {
    assertEquals(
      stoppedFirewalldWarning(config, facts),
      undefined,
      JSON.stringify([config, facts]),
    );
  }
});

Deno.test("lockoutWarnings() does not claim a flush where firewalld 2.x leaves iptables alone", () => {
  const config = defaultConfig();
  const ports = new Set([15001, 15006]);
  const [w] = lockoutWarnings(config, {
    listeningPorts: ports,
    firewalldRunning: true,
    firewalldLeavesIptables: true,
  });
  assertEquals(w.includes("flushes iptables at every reload"), false, w);
  assertStringIncludes(w, "its reloads keep these rules");
  assertStringIncludes(w, "after a reboot");
});
