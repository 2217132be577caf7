/**
 * Shared by the benchmarks: throw-away dual-stack namespaces (lo and a veth
 * pair inside them, 192.0.2.10/24 and fd00:beef::10/64), timed commands and
 * the median. Nothing here touches the machine's own namespace.
 *
 * @module
 */
import { Netns, sh } from "../tests/world/netns.ts";

/** Namespaces alive right now, so an interrupt can still delete them. */
const live = new Set<Netns>();

/** A fresh namespace with lo, and a veth pair carrying IPv4 and IPv6, so install sees a dual-stack host. */
export async function freshNetns(tag = "bench"): Promise<Netns> {
  const ns = await Netns.create(tag);
  live.add(ns);
  await ns.exec("ip", ["link", "add", "v0", "type", "veth", "peer", "name", "v1"]);
  await ns.exec("ip", ["addr", "add", "192.0.2.10/24", "dev", "v0"]);
  // nodad: the address is usable at once instead of after duplicate detection.
  await ns.exec("ip", ["addr", "add", "fd00:beef::10/64", "dev", "v0", "nodad"]);
  await ns.exec("ip", ["link", "set", "v0", "up"]);
  await ns.exec("ip", ["link", "set", "v1", "up"]);
  return ns;
}

export async function dropNetns(ns: Netns): Promise<void> {
  live.delete(ns);
  await ns.destroy();
}

/** Deletes every namespace still alive (on interrupt or at the end). */
export async function dropAllNetns(): Promise<void> {
  for (const ns of [...live]) await dropNetns(ns);
}

export async function inFreshNetns<T>(fn: (ns: Netns) => Promise<T>, tag?: string): Promise<T> {
  const ns = await freshNetns(tag);
  try {
    return await fn(ns);
  } finally {
    await dropNetns(ns);
  }
}

/** Runs a command in the namespace, timed; throws with stderr if it fails. */
export async function timed(ns: Netns, what: string, cmd: string, args: string[], stdin?: string) {
  const start = performance.now();
  const r = await ns.run(cmd, args, stdin);
  const ms = performance.now() - start;
  if (r.code !== 0) throw new Error(`${what}: exited ${r.code}: ${r.stderr.trim()}`);
  return { ms, stdout: r.stdout };
}

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function cleanupAndExit() {
  await dropAllNetns();
  Deno.exit(130);
}

/**
 * Starts a benchmark that needs root and a user with UID 5678: exits 0 with
 * "NAME: not measured: why" when it cannot run, and deletes every namespace
 * on SIGINT/SIGTERM. Call the returned function at the end.
 */
export async function startBench(name: string): Promise<() => Promise<void>> {
  let why: string | undefined;
  if (Deno.uid() !== 0) why = "needs root (it creates network namespaces)";
  else {
    try {
      await sh("getent", ["passwd", "5678"]);
    } catch {
      why = "needs a user with UID 5678: useradd -u 5678 -U -M kuma-dp";
    }
  }
  if (why) {
    console.log(`${name}: not measured: ${why}`);
    Deno.exit(0);
  }
  Deno.addSignalListener("SIGINT", cleanupAndExit);
  Deno.addSignalListener("SIGTERM", cleanupAndExit);
  return async () => {
    Deno.removeSignalListener("SIGINT", cleanupAndExit);
    Deno.removeSignalListener("SIGTERM", cleanupAndExit);
    await dropAllNetns();
  };
}
