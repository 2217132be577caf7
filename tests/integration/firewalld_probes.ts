/**
 * The two probes the firewalld tests judge by, in one family: a peer
 * connecting to the app (inbound) and the app connecting to the peer
 * (outbound), through a FirewalldHost (../world/firewalld_host.ts).
 */
import { assertEquals } from "../assert.ts";
import { firewalldVersion } from "../world/firewalld.ts";
import type { FirewalldHost } from "../world/firewalld_host.ts";
import { APP_UID, NAMES, PORTS, sidecarReply } from "../world/world.ts";

export type Family = 4 | 6;

/**
 * Whether firewalld accepts DNAT'ed (so also redirected) output before its
 * policies and its RFC3964 reject: 2.3.0 and later with the stock
 * StrictForwardPorts=no (commit 2bcab5a7, firewalld F11, docs/firewalld.md#f11).
 */
export async function acceptsDnatOutput(): Promise<boolean> {
  const [major, minor] = await firewalldVersion();
  return major > 2 || (major === 2 && minor >= 3);
}

/** Both probes of one family: inbound to the app and outbound from it. */
export async function probe(h: FirewalldHost, f: Family): Promise<[string, string]> {
  const w = h.world;
  return [
    await w.connect("peer", null, w.addr("host", f), PORTS.hostApp),
    await w.connect("host", APP_UID, w.addr("peer", f), PORTS.peerService),
  ];
}

export async function assertRedirected(h: FirewalldHost, families: Family[], when: string) {
  const w = h.world;
  for (const f of families) {
    assertEquals(await probe(h, f), [
      sidecarReply(PORTS.inbound, w.addr("host", f), PORTS.hostApp),
      sidecarReply(PORTS.outbound, w.addr("peer", f), PORTS.peerService),
    ], `${when}: IPv${f} must be redirected to the sidecar`);
  }
}

export async function assertDirect(h: FirewalldHost, families: Family[], when: string) {
  for (const f of families) {
    assertEquals(
      await probe(h, f),
      [NAMES.hostApp, NAMES.peerService],
      `${when}: IPv${f} must go direct`,
    );
  }
}
