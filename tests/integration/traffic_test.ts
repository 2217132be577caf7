/**
 * Real traffic through rules the real CLI installed: `kuma-tproxy install`
 * in the world's host namespace (../world), then TCP and DNS probes in both
 * families tell who answered: the stand-in sidecar (redirected, with the
 * original destination) or the real server (direct). Run on the nft and the
 * legacy backend and with `--backend nftables`, one world each.
 *
 * For each scenario: install, probe, install again (the saved rules must not
 * change, and traffic must still be redirected), uninstall, and then every
 * probe goes direct and iptables-save equals the state before install.
 *
 * Needs root and `ip netns` (run with --allow-all).
 */
import { assertEquals } from "../assert.ts";
import { getCase } from "../cases.ts";
import type { Netns } from "../world/netns.ts";
import {
  APP_UID,
  DNS_ANSWERS,
  KUMA_DP_UID,
  NAMES,
  PORTS,
  sidecarReply,
  withWorld,
  type World,
} from "../world/world.ts";
import { runCli } from "./cli_run.ts";
import { MODES, snapshot, tools } from "./iptables_fixtures.ts";

type Family = 4 | 6;

/** A UID that only the exclusion names; setpriv needs no passwd entry for it. */
const EXCLUDED_UID = 5680;
/** Extra peer addresses (on the peer's loopback, reached via the default route) to exclude by IP. */
const EXCLUDED_IP: Record<Family, string> = { 4: "10.77.0.3", 6: "fd77::3" };

/** kumactl's executables flag, pointing at the legacy backend. */
const LEGACY_FLAGS = [
  "--iptables-executables",
  ["iptables", "ip6tables"].flatMap((b) =>
    ["", "-save", "-restore"].map((t) => `${b}${t}:/usr/sbin/${b}-legacy${t}`)
  ).join(","),
];

/** One probe: how to send it, and what answers when it goes direct or to the sidecar. */
interface Probe {
  run(w: World, f: Family): Promise<string>;
  direct(w: World, f: Family): string;
  redirected(w: World, f: Family): string;
}

const tcp = (
  side: "host" | "peer",
  uid: number | null,
  to: (w: World, f: Family) => string,
  port: number,
  server: string,
  sidecarPort: number,
): Probe => ({
  run: (w, f) => w.connect(side, uid, to(w, f), port),
  direct: () => server,
  redirected: (w, f) => sidecarReply(sidecarPort, to(w, f), port),
});

const dns = (uid: number): Probe => ({
  run: (w, f) => w.dnsQuery(uid, w.addr("peer", f), "svc.example"),
  direct: (_w, f) => f === 4 ? DNS_ANSWERS.upstreamA : DNS_ANSWERS.upstreamAAAA,
  redirected: (_w, f) => f === 4 ? DNS_ANSWERS.standinA : DNS_ANSWERS.standinAAAA,
});

const host = (w: World, f: Family) => w.addr("host", f);
const peer = (w: World, f: Family) => w.addr("peer", f);

const PROBES = {
  "inbound to the app": tcp("peer", null, host, PORTS.hostApp, NAMES.hostApp, PORTS.inbound),
  "inbound to port 8081": tcp(
    "peer",
    null,
    host,
    PORTS.hostExcluded,
    NAMES.hostExcluded,
    PORTS.inbound,
  ),
  "outbound from the app": tcp(
    "host",
    APP_UID,
    peer,
    PORTS.peerService,
    NAMES.peerService,
    PORTS.outbound,
  ),
  "outbound from kuma-dp": tcp(
    "host",
    KUMA_DP_UID,
    peer,
    PORTS.peerService,
    NAMES.peerService,
    PORTS.outbound,
  ),
  "outbound to port 9091": tcp(
    "host",
    APP_UID,
    peer,
    PORTS.peerExcluded,
    NAMES.peerExcluded,
    PORTS.outbound,
  ),
  "outbound to the extra IP": tcp(
    "host",
    APP_UID,
    (_w, f) => EXCLUDED_IP[f],
    PORTS.peerService,
    NAMES.peerService,
    PORTS.outbound,
  ),
  "outbound from UID 5680": tcp(
    "host",
    EXCLUDED_UID,
    peer,
    PORTS.peerService,
    NAMES.peerService,
    PORTS.outbound,
  ),
  // The loopback rules: local traffic to the host's own address leaves via
  // lo; kuma-dp's goes to the inbound listener, anyone else's goes direct.
  "kuma-dp to the host address": tcp(
    "host",
    KUMA_DP_UID,
    host,
    PORTS.hostApp,
    NAMES.hostApp,
    PORTS.inbound,
  ),
  // Envoy's inbound passthrough connects from 127.0.0.6 / ::6: never redirected again.
  "kuma-dp from the passthrough address": {
    run: (w, f) =>
      w.connect(
        "host",
        KUMA_DP_UID,
        host(w, f),
        PORTS.hostApp,
        "tcp",
        f === 4 ? "127.0.0.6" : "::6",
      ),
    direct: () => NAMES.hostApp,
    redirected: (w, f) => sidecarReply(PORTS.inbound, host(w, f), PORTS.hostApp),
  },
  "app to the host address": tcp(
    "host",
    APP_UID,
    host,
    PORTS.hostApp,
    NAMES.hostApp,
    PORTS.outbound,
  ),
  "DNS from the app": dns(APP_UID),
  "DNS from kuma-dp": dns(KUMA_DP_UID),
} satisfies Record<string, Probe>;

type ProbeName = keyof typeof PROBES;

/** A command line and the probes it must redirect; every other probe goes direct. */
interface Scenario {
  name: string;
  flags: string[];
  env?: Record<string, string>;
  redirects: ProbeName[];
}

/** Every TCP probe that a default install redirects (all but kuma-dp's own). */
const ALL_TCP: ProbeName[] = [
  "inbound to the app",
  "inbound to port 8081",
  "outbound from the app",
  "outbound to port 9091",
  "outbound to the extra IP",
  "outbound from UID 5680",
  "kuma-dp to the host address",
];

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
    redirects: [
      "inbound to the app",
      "outbound from the app",
      "DNS from the app",
      "kuma-dp to the host address",
    ],
  },
  fromCase("outbound-disabled", ["inbound to the app", "inbound to port 8081"]),
  fromCase("inbound-disabled", [
    "kuma-dp to the host address",
    "outbound from the app",
    "outbound to port 9091",
    "outbound to the extra IP",
    "outbound from UID 5680",
  ]),
  // Inbound includes 8080 only; outbound includes 80 and 443, none of ours.
  fromCase("include-ports", ["inbound to the app", "kuma-dp to the host address"]),
  // The nftables backend turns insertRedirectInsteadOfAppend into chain
  // priorities, the log and the conntrack-INVALID drop into nft statements.
  fromCase("inbound-insert", [...ALL_TCP, "DNS from the app"]),
  fromCase("logs", ALL_TCP),
  fromCase("drop-invalid", ALL_TCP),
  {
    name: "DNS capture-all",
    flags: ["--kuma-dp-user", String(KUMA_DP_UID), "--redirect-all-dns-traffic"],
    redirects: [...ALL_TCP, "DNS from the app"],
  },
];

/** Every probe in both families, run at once; returns `"<probe> IPv<f>" -> reply`. */
async function probeAll(w: World): Promise<Record<string, string>> {
  const entries = Object.entries(PROBES).flatMap(([name, p]) =>
    ([4, 6] as const).map(async (f) => [`${name} IPv${f}`, await p.run(w, f)] as const)
  );
  return Object.fromEntries(await Promise.all(entries));
}

/** What `probeAll` must return when exactly `redirects` are redirected. */
function expected(w: World, redirects: ProbeName[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, p] of Object.entries(PROBES) as [ProbeName, Probe][]) {
    for (const f of [4, 6] as const) {
      out[`${name} IPv${f}`] = redirects.includes(name) ? p.redirected(w, f) : p.direct(w, f);
    }
  }
  return out;
}

/** Both backends, both families: installing one backend must leave the other alone too. */
async function saves(ns: Netns): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const mode of MODES) {
    for (const f of [4, 6] as const) out[`${mode}/IPv${f}`] = await snapshot(ns, tools(mode, f));
  }
  return out;
}

/**
 * One harmless foreign rule per table, so the tables exist before install
 * (as on any real host) and "equal to the state before" is a fair demand.
 */
function adminRules(): string {
  const rule = `-A OUTPUT -p tcp --dport 7 -m comment --comment "admin rule" -j RETURN`;
  return ["nat", "raw", "mangle", "filter"].map((t) => `*${t}\n${rule}\nCOMMIT\n`).join("");
}

/** An admin's own inet table, which the nftables backend must leave byte-identical. */
const ADMIN_INET = `table inet admin {
	chain output {
		type filter hook output priority 0; policy accept;
		tcp dport 7 counter accept comment "admin rule"
	}
}
`;

/**
 * The whole nftables ruleset (iptables-nft's tables, the admin's, ours), one
 * table a block, sorted: nft lists tables in creation order, and a
 * re-install re-creates ours.
 */
async function ruleset(ns: Netns): Promise<string> {
  const text = await ns.exec("nft", ["list", "ruleset"]);
  return text.split(/\n(?=table )/).map((t) => t.trimEnd()).sort().join("\n");
}

async function prepare(w: World, mode: "nft" | "legacy" | "nftables"): Promise<void> {
  // Envoy's IPv6 passthrough source; install adds it too, and never removes it.
  await w.host.exec("ip", ["-6", "addr", "add", "::6/128", "dev", "lo"]);
  if (mode === "nftables") await w.host.exec("nft", ["-f", "-"], ADMIN_INET);
  for (const f of [4, 6] as const) {
    // iptables-nft's `ip nat` and friends: foreign tables for the nftables backend.
    await w.host.exec(
      tools(mode === "legacy" ? "legacy" : "nft", f).restore,
      ["--noflush"],
      adminRules(),
    );
    const [addr, len] = f === 4 ? [EXCLUDED_IP[4], 32] : [EXCLUDED_IP[6], 128];
    await w.peer.exec("ip", [f === 4 ? "-4" : "-6", "addr", "add", `${addr}/${len}`, "dev", "lo"]);
  }
}

for (const mode of [...MODES, "nftables" as const]) {
  Deno.test(`kuma-tproxy install redirects real traffic, uninstall restores it (${mode})`, async (t) => {
    await withWorld(async (w) => {
      await prepare(w, mode);
      const backendFlags = mode === "legacy"
        ? LEGACY_FLAGS
        : mode === "nftables"
        ? ["--backend", "nftables"]
        : [];
      const cli = (args: string[], env?: Record<string, string>) =>
        runCli([...args, ...backendFlags], { netns: w.host, env: { ...w.toolEnv(), ...env } });
      const pristine = await saves(w.host);
      const pristineRuleset = await ruleset(w.host);
      assertEquals(await probeAll(w), expected(w, []), "before any install");

      for (const s of SCENARIOS) {
        await t.step(s.name, async () => {
          try {
            const first = await cli(["install", ...s.flags], s.env);
            assertEquals(first.code, 0, first.stderr);
            assertEquals(await probeAll(w), expected(w, s.redirects), "after install");
            const installed = await saves(w.host);
            const installedRuleset = await ruleset(w.host);
            // The rules went to the backend under test, in both families, and only there.
            for (const [key, save] of Object.entries(installed)) {
              const ours = key.startsWith(`${mode}/`);
              assertEquals(save.includes(":KUMA_MESH_"), ours, `KUMA_MESH chains in ${key}`);
            }
            assertEquals(
              installedRuleset.includes("table inet kuma_mesh_transparent_proxy {"),
              mode === "nftables",
              "our nft table",
            );

            const again = await cli(["install", ...s.flags], s.env);
            assertEquals(again.code, 0, again.stderr);
            assertEquals(await saves(w.host), installed, "a second install changed the rules");
            // (iptables-nft's own rules count packets, so only our table is compared.)
            if (mode === "nftables") {
              assertEquals(await ruleset(w.host), installedRuleset, "a second install changed nft");
            }
            assertEquals(await probeAll(w), expected(w, s.redirects), "after re-install");
          } finally {
            const removed = await cli(["uninstall"]);
            assertEquals(removed.code, 0, removed.stderr);
          }
          assertEquals(await saves(w.host), pristine, "iptables-save after uninstall");
          if (mode === "nftables") {
            // Foreign tables (iptables-nft's, the admin's inet one) byte-identical.
            assertEquals(
              await ruleset(w.host),
              pristineRuleset,
              "nft list ruleset after uninstall",
            );
          }
          assertEquals(await probeAll(w), expected(w, []), "after uninstall");
        });
      }
    });
  });
}
