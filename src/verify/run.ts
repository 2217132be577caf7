/**
 * Runs the probes of a {@link ProbePlan}: finds who listens on each redirect
 * port (`ss`), opens verify's own listener where nothing does and `--listen`
 * allows it, sends each UID's probes from a child process started through
 * `setpriv` as that UID, and judges every outcome. It only reads the rules'
 * effect; it never changes a rule.
 *
 * @module
 */
import type { Runner } from "../os/runner.ts";
import { parseListeningPorts } from "../host/listeners.ts";
import type { Probe, ProbePlan } from "./paths.ts";
import type { SendResult, SendSpec } from "./send.ts";
import { judge, type Listener, type PathResult } from "./judge.ts";
import { listenTcp, listenUdp, type OwnListener } from "./listen.ts";

/** How long a probe waits for an answer: a redirect to this host answers in well under a millisecond. */
export const PROBE_TIMEOUT_MS = 1500;

/** The hidden command the child runs (src/main.ts). */
export const SEND_COMMAND = "__verify-send";

export interface VerifyDeps {
  runner: Runner;
  /** How to start this program again (CliIo.selfCommand). */
  selfCommand: string[];
  /** Whether verify may listen itself where nothing listens. */
  listen: boolean;
}

async function listeningPorts(runner: Runner, proto: "tcp" | "udp"): Promise<Set<number>> {
  const r = await runner.run("ss", ["-H", "-l", proto === "tcp" ? "-t" : "-u", "-n"]);
  if (r.code !== 0) throw new Error(`ss failed: ${r.stderr.trim() || `exit ${r.code}`}`);
  return parseListeningPorts(r.stdout);
}

/** Runs `specs` as `uid`, in one child; a child that fails makes every probe an error. */
async function sendAs(
  deps: VerifyDeps,
  uid: number,
  specs: SendSpec[],
): Promise<SendResult[]> {
  if (specs.length === 0) return [];
  // setpriv(1), util-linux: real and effective UID and GID, no supplementary groups.
  const args = [
    `--reuid=${uid}`,
    "--regid=65534",
    "--clear-groups",
    "--",
    ...deps.selfCommand,
    SEND_COMMAND,
  ];
  const failed = (detail: string) =>
    specs.map((s) => ({ id: s.id, outcome: "error" as const, detail }));
  let r;
  try {
    r = await deps.runner.run("setpriv", args, { stdin: JSON.stringify(specs) });
  } catch (e) {
    return failed(`cannot start setpriv: ${(e as Error).message}`);
  }
  try {
    if (r.code === 0) return JSON.parse(r.stdout) as SendResult[];
  } catch { /* below */ }
  return failed(`the probe process as UID ${uid} failed: ${r.stderr.trim() || `exit ${r.code}`}`);
}

/**
 * Whether the kernel routes `addr` for `uid`: a locally generated packet is
 * routed before the nat OUTPUT hook sees it, so without a route no rule is
 * ever reached (and an ENETUNREACH from the probe would not say whether it
 * came from here or from a router's ICMP error). `ip route get` only reads.
 */
async function routed(runner: Runner, p: Probe, uid: number): Promise<string | undefined> {
  const r = await runner.run("ip", [
    p.family === 4 ? "-4" : "-6",
    "route",
    "get",
    p.addr,
    "uid",
    String(uid),
  ]);
  return r.code === 0 ? undefined : r.stderr.trim().replace(/^RTNETLINK answers: /, "") ||
    `ip route get exit ${r.code}`;
}

function nonce(): string {
  return `n${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
}

/** Runs every probe and returns one result per path, unchecked ones included. */
export async function runProbes(plan: ProbePlan, deps: VerifyDeps): Promise<PathResult[]> {
  const ports = { tcp: new Set<number>(), udp: new Set<number>() };
  for (const p of plan.probes) ports[p.proto].add(p.redirectPort);
  const listening = {
    tcp: ports.tcp.size ? await listeningPorts(deps.runner, "tcp") : new Set<number>(),
    udp: ports.udp.size ? await listeningPorts(deps.runner, "udp") : new Set<number>(),
  };
  const own = new Map<string, OwnListener>();
  const listenerOf = (p: Probe): Listener =>
    own.has(`${p.proto}/${p.redirectPort}`)
      ? "ours"
      : listening[p.proto].has(p.redirectPort)
      ? "theirs"
      : "none";
  try {
    if (deps.listen) {
      for (const proto of ["tcp", "udp"] as const) {
        for (const port of ports[proto]) {
          if (listening[proto].has(port)) continue;
          own.set(`${proto}/${port}`, proto === "tcp" ? listenTcp(port) : await listenUdp(port));
        }
      }
    }
    const specs = plan.probes.map((p, id): SendSpec & { sender: Probe["sender"] } => ({
      id,
      proto: p.proto,
      family: p.family,
      addr: p.addr,
      port: p.port,
      nonce: nonce(),
      timeoutMs: PROBE_TIMEOUT_MS,
      sender: p.sender,
    }));
    const uidOf = (p: Probe) => p.sender === "app" ? plan.appUid : plan.kumaDpUid;
    const noRoute = new Map<number, string>();
    await Promise.all(plan.probes.map(async (p, id) => {
      const why = await routed(deps.runner, p, uidOf(p));
      if (why !== undefined) noRoute.set(id, why);
    }));
    const strip = ({ sender: _, ...s }: SendSpec & { sender: string }) => s;
    const to = (sender: Probe["sender"]) =>
      specs.filter((s) => s.sender === sender && !noRoute.has(s.id)).map(strip);
    const results = (await Promise.all([
      sendAs(deps, plan.appUid, to("app")),
      sendAs(deps, plan.kumaDpUid, to("kuma-dp")),
    ])).flat();
    for (const [id, detail] of noRoute) results.push({ id, outcome: "no-route", detail });
    const byId = new Map(results.map((r) => [r.id, r]));
    return plan.probes.map((p, id) => {
      const r = byId.get(id) ?? { id, outcome: "error" as const, detail: "no result" };
      const listener = listenerOf(p);
      const seen = own.get(`${p.proto}/${p.redirectPort}`)?.seen.has(specs[id].nonce) ?? false;
      const uid = uidOf(p);
      return {
        path: p.path,
        family: p.family,
        ...judge(p, r, listener, seen),
        probe: `${p.proto} ${
          p.addr.includes(":") ? `[${p.addr}]` : p.addr
        }:${p.port} as UID ${uid}`,
        listener,
        ...(r.reply !== undefined && listener === "theirs" ? { reply: r.reply } : {}),
      };
    });
  } finally {
    await Promise.all([...own.values()].map((l) => l.close()));
  }
}
