/**
 * verify's own brief listener (`verify --listen`), for a redirect port where
 * nothing listens yet: it records the nonce of every probe that reaches it,
 * so a probe counts as redirected only when this very listener saw it.
 *
 * It binds the wildcard addresses, `[::]` first and then `0.0.0.0` (a
 * dual-stack `[::]` already covers IPv4, and the second bind then fails
 * with "address in use", which is fine): Deno grants no loopback-only
 * listen without also granting connects to every loopback port
 * (scripts/permissions.txt). REDIRECT sends a locally generated packet to
 * 127.0.0.1 or ::1 (iptables-extensions(8), REDIRECT), which a wildcard
 * socket receives. It is open for the few seconds of the probes.
 *
 * @module
 */
import dgram from "node:dgram";
import { nonceOfQuery } from "./send.ts";

export interface OwnListener {
  /** Nonces received so far. */
  readonly seen: Set<string>;
  close(): Promise<void>;
}

const LINE = /^kuma-tproxy-verify (\S+)/;

async function serveTcp(listener: Deno.Listener, seen: Set<string>): Promise<void> {
  for await (const conn of listener) {
    (async () => {
      try {
        const buf = new Uint8Array(256);
        const n = await conn.read(buf);
        const m = n ? LINE.exec(new TextDecoder().decode(buf.subarray(0, n))) : null;
        if (m) seen.add(m[1]);
        await conn.write(new TextEncoder().encode("kuma-tproxy-verify listener\n"));
      } catch {
        // The prober may be gone already.
      } finally {
        try {
          conn.close();
        } catch { /* closed */ }
      }
    })();
  }
}

function inUse(e: unknown): boolean {
  return e instanceof Deno.errors.AddrInUse || /EADDRINUSE/.test(String(e));
}

/** Listens on TCP `port`, both families; throws when the port is taken for IPv4. */
export function listenTcp(port: number): OwnListener {
  const seen = new Set<string>();
  const listeners: Deno.Listener[] = [];
  for (const hostname of ["[::]", "0.0.0.0"]) {
    try {
      listeners.push(Deno.listen({ hostname: hostname.replace(/[[\]]/g, ""), port }));
    } catch (e) {
      // [::] is missing without IPv6; 0.0.0.0 is taken by a dual-stack [::].
      if (hostname === "0.0.0.0" && !(inUse(e) && listeners.length > 0)) {
        listeners.forEach((l) => l.close());
        throw e;
      }
    }
  }
  const loops = listeners.map((l) => serveTcp(l, seen).catch(() => {}));
  return {
    seen,
    async close() {
      listeners.forEach((l) => {
        try {
          l.close();
        } catch { /* closed */ }
      });
      await Promise.all(loops);
    },
  };
}

function bindUdp(type: "udp4" | "udp6", port: number, seen: Set<string>): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket({ type, ipv6Only: false });
    socket.once("error", reject);
    socket.on("message", (msg) => {
      const nonce = nonceOfQuery(new Uint8Array(msg));
      if (nonce) seen.add(nonce);
    });
    socket.bind(port, type === "udp4" ? "0.0.0.0" : "::", () => {
      socket.off("error", reject);
      socket.on("error", () => {});
      resolve(socket);
    });
  });
}

/** Listens on UDP `port`, both families, as {@link listenTcp} does. */
export async function listenUdp(port: number): Promise<OwnListener> {
  const seen = new Set<string>();
  const sockets: dgram.Socket[] = [];
  try {
    sockets.push(await bindUdp("udp6", port, seen));
  } catch {
    // No IPv6 on this host.
  }
  try {
    sockets.push(await bindUdp("udp4", port, seen));
  } catch (e) {
    if (!(inUse(e) && sockets.length > 0)) {
      sockets.forEach((s) => s.close());
      throw e;
    }
  }
  return {
    seen,
    close: async () => {
      await Promise.all(sockets.map((s) => new Promise<void>((r) => s.close(() => r()))));
    },
  };
}
