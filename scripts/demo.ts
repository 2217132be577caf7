/**
 * The demo behind scripts/demo.sh: the README's Universal VM walkthrough
 * ("One config for kuma-dp"), run step by step on a throw-away VM.
 *
 * The VM (tests/world/vm_host.ts) is the test world's "host" network
 * namespace, with an app and, later, a stand-in sidecar, and a "peer"
 * namespace with a service and a DNS server, plus a private mount namespace
 * whose /etc is an overlay: the walkthrough's useradd, /etc/kuma-tproxy and
 * the boot unit of `--store-systemd` land in that copy only. The demo shows
 * traffic going direct, runs each command of the walkthrough
 * (scripts/walkthrough.ts, kept equal to the README by a test) as the README
 * writes it, with the stand-in sidecar for kuma-dp on the ports the
 * walkthrough's config file says, shows a connection and a DNS query landing
 * on it, uninstalls, shows the traffic going direct again, and deletes
 * everything it created, also on failure and Ctrl-C. The machine's own
 * network namespace, /etc, users and D-Bus are never touched.
 *
 * Exit code: 0 when every step shows what it should, 1 otherwise.
 */
import { parse } from "yaml";
import {
  APP_UID,
  DNS_ANSWERS,
  KUMA_DP_UID,
  NAMES,
  PORTS,
  type SidecarPorts,
  sidecarReply,
} from "../tests/world/world.ts";
import { VmHost } from "../tests/world/vm_host.ts";
import { WALKTHROUGH, WALKTHROUGH_CONFIG, type WalkthroughStep } from "./walkthrough.ts";

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

/** Runs `command` in the VM as the README writes it; prints it, its output and exit code. */
async function run(vm: VmHost, command: string): Promise<number> {
  say(`$ ${command}`);
  const r = await vm.sh(command);
  const out = (r.stderr + r.stdout).trimEnd();
  if (out) { for (const line of out.split("\n")) say(`    ${line}`); }
  say(`    (exit ${r.code})`);
  return r.code;
}

/**
 * The ports kuma-dp takes from `--transparent-proxy-config` (its
 * redirect.outbound/inbound/dns `port`, pkg/transparentproxy/config), read
 * from the file the walkthrough wrote, as kuma-dp would.
 */
async function portsOf(vm: VmHost): Promise<SidecarPorts> {
  const file = parse(await Deno.readTextFile(vm.path(WALKTHROUGH_CONFIG)));
  const port = (key: "outbound" | "inbound" | "dns"): number => {
    const p = file?.redirect?.[key]?.port;
    if (typeof p !== "number") throw new Error(`${WALKTHROUGH_CONFIG}: no redirect.${key}.port`);
    return p;
  };
  return { outbound: port("outbound"), inbound: port("inbound"), dns: port("dns") };
}

/** One inbound, one outbound and one DNS probe, judged against `redirected` to `ports`. */
async function probe(vm: VmHost, ports: SidecarPorts | null): Promise<void> {
  const world = vm.world;
  const [host, peer] = [world.addr("host", 4), world.addr("peer", 4)];
  show(
    `inbound   peer -> app ${host}:${PORTS.hostApp}`,
    await world.connect("peer", null, host, PORTS.hostApp),
    ports ? sidecarReply(ports.inbound, host, PORTS.hostApp) : NAMES.hostApp,
    ports
      ? `landed on the sidecar's inbound port ${ports.inbound}, original destination kept`
      : "answered by the app itself: direct",
  );
  show(
    `outbound  app (UID ${APP_UID}) -> ${peer}:${PORTS.peerService}`,
    await world.connect("host", APP_UID, peer, PORTS.peerService),
    ports ? sidecarReply(ports.outbound, peer, PORTS.peerService) : NAMES.peerService,
    ports
      ? `landed on the sidecar's outbound port ${ports.outbound}, original destination kept`
      : "answered by the peer's service: direct",
  );
  show(
    `DNS       app asks ${peer} (resolv.conf) for demo.example`,
    await world.dnsQuery(APP_UID, peer, "demo.example"),
    ports ? DNS_ANSWERS.standinA : DNS_ANSWERS.upstreamA,
    ports
      ? `answered by the stand-in DNS proxy on port ${ports.dns}`
      : "answered by the real DNS server on the peer: direct",
  );
  show(
    `outbound  kuma-dp (UID ${KUMA_DP_UID}) -> ${peer}:${PORTS.peerService}`,
    await world.connect("host", KUMA_DP_UID, peer, PORTS.peerService),
    NAMES.peerService,
    "the sidecar's own traffic always goes direct",
  );
}

/** kuma-dp's step: the stand-in sidecar, as the user kuma-dp, on the file's ports. */
async function startKumaDp(vm: VmHost, step: WalkthroughStep): Promise<SidecarPorts> {
  say(`$ ${step.command}`);
  const ports = await portsOf(vm);
  // setpriv resolves the name in the VM's passwd, which the useradd step
  // wrote, and execs, so the PID the world holds is the stand-in's.
  await vm.world.startSidecar({
    ports,
    launch: [...vm.argv, "setpriv", "--reuid=kuma-dp", "--regid=kuma-dp", "--clear-groups", "--"],
  });
  say(
    `    stand-in for kuma-dp: tests/world/sidecar.py as user kuma-dp, listening on the ports ` +
      `of ${WALKTHROUGH_CONFIG}:`,
  );
  say(`    outbound ${ports.outbound}, inbound ${ports.inbound}, DNS ${ports.dns}`);
  return ports;
}

async function demo(vm: VmHost): Promise<void> {
  const world = vm.world;
  say(
    `Throw-away VM: network namespace ${world.host.name} (peer ${world.peer.name}), ` +
      "a private /etc (overlay), no systemd, no D-Bus",
  );
  say(`  host: app (UID ${APP_UID}) on ${PORTS.hostApp}; /etc/resolv.conf names the peer`);
  say(`  peer: service on ${PORTS.peerService}, DNS server on 53`);
  say();
  say("Before: traffic goes direct.");
  await probe(vm, null);
  say();
  say(`The README's Universal VM walkthrough (One config for kuma-dp), as root:`);
  let ports: SidecarPorts | null = null;
  for (const [i, step] of WALKTHROUGH.entries()) {
    say();
    say(`Step ${i + 1} of ${WALKTHROUGH.length}:`);
    if (step.kind === "kuma-dp") ports = await startKumaDp(vm, step);
    else if ((await run(vm, step.command)) !== 0) failures++;
  }
  say();
  say("Traffic now lands on the sidecar:");
  await probe(vm, ports);
  say();
  say("Afterwards (not part of the walkthrough), uninstall:");
  if ((await run(vm, "kuma-tproxy uninstall")) !== 0) failures++;
  say();
  say("After uninstall, traffic goes direct again:");
  await probe(vm, null);
}

async function main(): Promise<number> {
  say("Creating the throw-away VM...");
  const creating = VmHost.create();
  let cleaning: Promise<void> | undefined;
  const cleanup = () =>
    cleaning ??= creating.then(async (vm) => {
      await vm.destroy();
      say(
        `Cleaned up: namespaces ${vm.world.host.name} and ${vm.world.peer.name} deleted, ` +
          "private /etc discarded, helpers stopped.",
      );
    });
  // Ctrl-C or kill, even while the VM is still being built: the namespaces
  // and helpers must still go.
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
