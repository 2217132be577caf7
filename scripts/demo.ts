/**
 * The demo behind scripts/demo.sh: the main job on a throw-away world.
 *
 * It builds the test world (tests/world: a "host" network namespace with a
 * stand-in sidecar as UID 5678 and an app, a "peer" namespace with a service
 * and a DNS server), installs the transparent proxy in the host namespace
 * with the real CLI, shows an inbound and an outbound connection and a DNS
 * query landing on the sidecar, runs `status`, uninstalls, shows the traffic
 * going direct again, and deletes everything it created, also on failure and
 * Ctrl-C. Nothing outside the two new namespaces is changed, except that the
 * host-wide test users (kuma-dp 5678, ktp-app 5679) are created if missing.
 *
 * Exit code: 0 when every line shows what it should, 1 otherwise.
 */
import { runCli } from "../tests/integration/cli_run.ts";
import {
  APP_UID,
  DNS_ANSWERS,
  KUMA_DP_UID,
  NAMES,
  PORTS,
  sidecarReply,
  World,
} from "../tests/world/world.ts";

const INSTALL_FLAGS = ["--kuma-dp-user", String(KUMA_DP_UID), "--redirect-dns"];
let failures = 0;

function say(line = ""): void {
  console.log(line);
}

/** Prints a probe's result and whether it is what this step should show. */
function show(what: string, got: string, want: string, meaning: string): void {
  const ok = got === want;
  if (!ok) failures++;
  say(`  ${ok ? "ok  " : "FAIL"} ${what.padEnd(46)} -> ${got}`);
  say(`       ${ok ? meaning : `expected: ${want}`}`);
}

async function run(world: World, args: string[]): Promise<number> {
  say(`$ ip netns exec ${world.host.name} kuma-tproxy ${args.join(" ")}`);
  const r = await runCli(args, { netns: world.host, env: world.toolEnv() });
  for (const line of (r.stderr + r.stdout).trimEnd().split("\n")) say(`    ${line}`);
  say(`    (exit ${r.code})`);
  return r.code;
}

/** One inbound, one outbound and one DNS probe, judged against `redirected`. */
async function probe(world: World, redirected: boolean): Promise<void> {
  const [host, peer] = [world.addr("host", 4), world.addr("peer", 4)];
  show(
    `inbound   peer -> app ${host}:${PORTS.hostApp}`,
    await world.connect("peer", null, host, PORTS.hostApp),
    redirected ? sidecarReply(PORTS.inbound, host, PORTS.hostApp) : NAMES.hostApp,
    redirected
      ? `landed on the sidecar's inbound port ${PORTS.inbound}, original destination kept`
      : "answered by the app itself: direct",
  );
  show(
    `outbound  app (UID ${APP_UID}) -> ${peer}:${PORTS.peerService}`,
    await world.connect("host", APP_UID, peer, PORTS.peerService),
    redirected ? sidecarReply(PORTS.outbound, peer, PORTS.peerService) : NAMES.peerService,
    redirected
      ? `landed on the sidecar's outbound port ${PORTS.outbound}, original destination kept`
      : "answered by the peer's service: direct",
  );
  show(
    `DNS       app asks ${peer} for demo.example`,
    await world.dnsQuery(APP_UID, peer, "demo.example"),
    redirected ? DNS_ANSWERS.standinA : DNS_ANSWERS.upstreamA,
    redirected
      ? `answered by the stand-in DNS proxy on port ${PORTS.dns}`
      : "answered by the real DNS server on the peer: direct",
  );
  show(
    `outbound  kuma-dp (UID ${KUMA_DP_UID}) -> ${peer}:${PORTS.peerService}`,
    await world.connect("host", KUMA_DP_UID, peer, PORTS.peerService),
    NAMES.peerService,
    "the sidecar's own traffic always goes direct",
  );
}

async function demo(world: World): Promise<void> {
  say(`Throw-away world: host namespace ${world.host.name}, peer namespace ${world.peer.name}`);
  say(
    `  host: stand-in sidecar (UID ${KUMA_DP_UID}) on ${PORTS.outbound}/${PORTS.inbound}/` +
      `${PORTS.dns}, app (UID ${APP_UID}) on ${PORTS.hostApp}; resolv.conf: ${world.resolvConf}`,
  );
  say(`  peer: service on ${PORTS.peerService}, DNS server on 53`);
  say();
  say("1. Before install, traffic goes direct:");
  await probe(world, false);
  say();
  say("2. Install the transparent proxy in the host namespace:");
  if ((await run(world, ["install", ...INSTALL_FLAGS])) !== 0) failures++;
  say();
  say("3. Traffic now lands on the sidecar:");
  await probe(world, true);
  say();
  say("4. Status (0: installed and matching the config):");
  await run(world, ["status", ...INSTALL_FLAGS]);
  say();
  say("5. Uninstall:");
  if ((await run(world, ["uninstall"])) !== 0) failures++;
  say();
  say("6. After uninstall, traffic goes direct again:");
  await probe(world, false);
}

async function main(): Promise<number> {
  say("Creating the throw-away world...");
  const creating = World.create();
  let cleaning: Promise<void> | undefined;
  const cleanup = () =>
    cleaning ??= creating.then(async (world) => {
      await world.destroy();
      say(
        `Cleaned up: namespaces ${world.host.name} and ${world.peer.name} deleted, helpers stopped.`,
      );
    });
  // Ctrl-C or kill, even while the world is still being built: the
  // namespaces and helpers must still go.
  const onSignal = async () => {
    say("\nInterrupted: cleaning up...");
    await cleanup().catch(() => {});
    Deno.exit(130);
  };
  for (const s of ["SIGINT", "SIGTERM"] as const) Deno.addSignalListener(s, onSignal);
  try {
    await demo(await creating);
  } catch (e) {
    failures++;
    say(`demo failed: ${(e as Error).message}`);
  } finally {
    say();
    await cleanup().catch((e) => say(`cleanup failed: ${(e as Error).message}`));
  }
  say(
    failures === 0 ? "Demo OK." : `Demo FAILED: ${failures} step(s) did not show what they should.`,
  );
  return failures === 0 ? 0 : 1;
}

Deno.exit(await main());
