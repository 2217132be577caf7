/**
 * Real traffic through rules the real CLI installed: `kuma-tproxy install`
 * in the world's host namespace (../world), then TCP and DNS probes in both
 * families tell who answered: the stand-in sidecar (redirected, with the
 * original destination) or the real server (direct). Run on the nft and the
 * legacy backend, one world each.
 *
 * For each scenario: install, probe, install again (the saved rules must not
 * change, and traffic must still be redirected), uninstall, and then every
 * probe goes direct and iptables-save equals the state before install.
 *
 * Needs root and `ip netns` (run with --allow-all).
 */
import { assertEquals } from "../assert.ts";
import { getCase } from "../cases.ts";
import { KUMA_DP_UID, PORTS, withWorld } from "../world/world.ts";
import { runCli } from "./cli_run.ts";
import { MODES } from "./iptables_fixtures.ts";
import {
  EXCLUDED_IP,
  EXCLUDED_UID,
  expected,
  LEGACY_FLAGS,
  prepare,
  probeAll,
  type ProbeName,
  saves,
} from "./traffic_probes.ts";

/** A command line and the probes it must redirect; every other probe goes direct. */
interface Scenario {
  name: string;
  flags: string[];
  env?: Record<string, string>;
  redirects: ProbeName[];
}

/** A case of tests/cases.ts, run with the kuma-dp UID instead of its name. */
function fromCase(name: string, redirects: ProbeName[]): Scenario {
  const c = getCase(name);
  const flags = c.flags.map((f, i) => c.flags[i - 1] === "--kuma-dp-user" ? "5678" : f);
  return { name: `case ${name}`, flags, env: c.env, redirects };
}

const SCENARIOS: Scenario[] = [
  {
    name: "DNS redirect with port, IP and UID exclusions",
    flags: [
      ...["--kuma-dp-user", String(KUMA_DP_UID), "--redirect-dns"],
      ...["--exclude-inbound-ports", String(PORTS.hostExcluded)],
      ...["--exclude-outbound-ports", String(PORTS.peerExcluded)],
      ...["--exclude-outbound-ips", `${EXCLUDED_IP[4]},${EXCLUDED_IP[6]}`],
      ...["--exclude-outbound-ports-for-uids", String(EXCLUDED_UID)],
    ],
    redirects: ["inbound to the app", "outbound from the app", "DNS from the app"],
  },
  fromCase("outbound-disabled", ["inbound to the app", "inbound to port 8081"]),
  fromCase("inbound-disabled", [
    "outbound from the app",
    "outbound to port 9091",
    "outbound to the extra IP",
    "outbound from UID 5680",
  ]),
  // Inbound includes 8080 only; outbound includes 80 and 443, none of ours.
  fromCase("include-ports", ["inbound to the app"]),
];

for (const mode of MODES) {
  Deno.test(`kuma-tproxy install redirects real traffic, uninstall restores it (${mode})`, async (t) => {
    await withWorld(async (w) => {
      await prepare(w, mode);
      const backendFlags = mode === "legacy" ? LEGACY_FLAGS : [];
      const cli = (args: string[], env?: Record<string, string>) =>
        runCli([...args, ...backendFlags], { netns: w.host, env: { ...w.toolEnv(), ...env } });
      const pristine = await saves(w.host);
      assertEquals(await probeAll(w), expected(w, []), "before any install");

      for (const s of SCENARIOS) {
        await t.step(s.name, async () => {
          try {
            const first = await cli(["install", ...s.flags], s.env);
            assertEquals(first.code, 0, first.stderr);
            assertEquals(await probeAll(w), expected(w, s.redirects), "after install");
            const installed = await saves(w.host);
            // The rules went to the backend under test, in both families, and only there.
            for (const [key, save] of Object.entries(installed)) {
              const ours = key.startsWith(`${mode}/`);
              assertEquals(save.includes(":KUMA_MESH_"), ours, `KUMA_MESH chains in ${key}`);
            }

            const again = await cli(["install", ...s.flags], s.env);
            assertEquals(again.code, 0, again.stderr);
            assertEquals(await saves(w.host), installed, "a second install changed the rules");
            assertEquals(await probeAll(w), expected(w, s.redirects), "after re-install");
          } finally {
            const removed = await cli(["uninstall"]);
            assertEquals(removed.code, 0, removed.stderr);
          }
          assertEquals(await saves(w.host), pristine, "iptables-save after uninstall");
          assertEquals(await probeAll(w), expected(w, []), "after uninstall");
        });
      }
    });
  });
}
