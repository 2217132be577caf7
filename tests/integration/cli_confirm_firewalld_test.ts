/**
 * `install --store-firewalld --confirm-timeout` with a running firewalld:
 * the real CLI on a host whose /etc/firewalld and system bus belong to a real
 * firewalld (../world/firewalld_host.ts), with a private tmpfs on
 * /run/kuma-tproxy for the pending record and its watcher. The rules go into
 * firewalld's runtime direct config only; its permanent config (and so
 * direct.xml) waits for `confirm`, and the rollback puts the runtime config
 * and the kernel back.
 *
 * Needs root, `ip netns`, unshare/nsenter and firewalld (run with --allow-all).
 */
import { assert, assertEquals, assertNotEquals, assertStringIncludes } from "../assert.ts";
import type { FirewalldWorld } from "../world/firewalld.ts";
import { type FirewalldHost, netfilter, withFirewalldHost } from "../world/firewalld_host.ts";
import { KUMA_DP_UID } from "../world/world.ts";

const RECORD = "/run/kuma-tproxy/pending.json";
/**
 * A and B differ in the nat table only: a table A alone used would stay, empty, after the
 * rollback (README, Safety, "Known leftovers"), and a foreign rule that made it exist before
 * would be flushed by firewalld 2.x once the direct config holds ours.
 */
const A = [
  "--kuma-dp-user",
  String(KUMA_DP_UID),
  "--exclude-outbound-ports",
  "9091",
  "--store-firewalld",
];
const B = ["--kuma-dp-user", String(KUMA_DP_UID), "--store-firewalld"];
const test = (name: string, fn: () => Promise<void>) =>
  Deno.test({ name, sanitizeResources: false, sanitizeOps: false, fn });

function assertOk(r: { code: number; stdout: string; stderr: string }, what: string) {
  assertEquals(r.code, 0, `${what} exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
}

/** firewalld's direct config over D-Bus (sorted: firewalld keeps no order we wrote), and the file. */
async function firewalld(h: FirewalldHost, fw: FirewalldWorld) {
  const bus = fw.connect();
  try {
    const sorted = (xs: unknown[]) => xs.map((x) => JSON.stringify(x)).sort();
    const p = await bus.getPermanent();
    return {
      permanent: sorted([...p.chains, ...p.rules, ...p.passthroughs]),
      runtime: sorted([...await bus.getRuntimeChains(), ...await bus.getRuntimeRules()]),
      directXml: await h.directXml(),
    };
  } finally {
    bus.close();
  }
}

async function record(h: FirewalldHost): Promise<{ watcherPid: number } | null> {
  const r = await h.inside("cat", [RECORD]);
  return r.code === 0 ? JSON.parse(r.stdout) : null;
}

/** Polls, at most 30 s, until no install is pending. */
async function untilSettled(h: FirewalldHost): Promise<void> {
  const end = Date.now() + 30_000;
  while ((await record(h)) !== null) {
    if (Date.now() > end) throw new Error("timed out waiting for the rollback");
    await new Promise((ok) => setTimeout(ok, 100));
  }
}

async function withHost(fn: (h: FirewalldHost, fw: FirewalldWorld) => Promise<void>) {
  await withFirewalldHost({ rfc3964Ipv4: false }, async (h) => {
    await h.mnt.sh(`
      mkdir -p /run/kuma-tproxy
      mount -t tmpfs -o mode=0700 tmpfs /run/kuma-tproxy`);
    const fw = h.firewalld;
    assertEquals(await fw.start(), "running");
    try {
      await fn(h, fw);
    } finally {
      const r = await record(h).catch(() => null);
      if (r?.watcherPid) Deno.kill(r.watcherPid, "SIGKILL");
    }
  });
}

test("install --store-firewalld --confirm-timeout, firewalld running: no confirm puts back runtime and kernel, permanent untouched", () =>
  withHost(async (h, fw) => {
    assertOk(await h.cli(["install", ...B]), "install B");
    const before = { kernel: await netfilter(h), firewalld: await firewalld(h, fw) };
    assert(before.firewalld.directXml !== null, "B is stored");

    const r = await h.cli(["install", ...A, "--confirm-timeout", "3s"]);
    assertOk(r, "install A --confirm-timeout 3s");
    assertStringIncludes(r.stdout, "in the runtime direct config only");
    const pending = await firewalld(h, fw);
    assertEquals(pending.permanent, before.firewalld.permanent, "the permanent config waits");
    assertEquals(pending.directXml, before.firewalld.directXml);
    assertNotEquals(pending.runtime, before.firewalld.runtime, "the runtime config took A");
    assertNotEquals(await netfilter(h), before.kernel);

    await untilSettled(h);
    assertEquals(await firewalld(h, fw), before.firewalld, "firewalld's direct config as before");
    assertEquals(await netfilter(h), before.kernel, "the kernel as before");
  }));

test("install --store-firewalld --confirm-timeout, then confirm: firewalld's permanent config takes the rules", () =>
  withHost(async (h, fw) => {
    assertOk(await h.cli(["install", ...B]), "install B");
    const before = await firewalld(h, fw);
    assertOk(await h.cli(["install", ...A, "--confirm-timeout", "1h"]), "install A");
    const applied = { kernel: await netfilter(h), firewalld: await firewalld(h, fw) };
    const c = await h.cli(["confirm"]);
    assertOk(c, "confirm");
    assertStringIncludes(c.stdout, "in the permanent and runtime direct config");
    assertEquals(await record(h), null);
    const after = await firewalld(h, fw);
    assertEquals(after.runtime, applied.firewalld.runtime, "the runtime config stays");
    assertEquals(after.permanent, after.runtime, "the permanent config holds the same");
    assertNotEquals(after.permanent, before.permanent);
    assertNotEquals(after.directXml, before.directXml);
    assertEquals(await netfilter(h), applied.kernel, "the kernel stays");
    const status = await h.cli(["status", ...A]);
    assertOk(status, "status after confirm");
  }));
