/**
 * The sending side of verify, run in a child process as the probe's UID
 * (`kuma-tproxy __verify-send`, started through setpriv): the owner match of
 * the rules sees the UID of the socket's creator, and a process can only
 * create sockets as its own, so each UID needs its own process.
 *
 * It reads a JSON list of {@link SendSpec} on stdin, sends every probe at
 * once and prints one JSON array of {@link SendResult}. Each probe carries
 * a nonce that verify's own listener records, so a connection it accepted
 * is known to be this one and no other.
 *
 * @module
 */
import dgram from "node:dgram";

export interface SendSpec {
  id: number;
  proto: "tcp" | "udp";
  family: 4 | 6;
  addr: string;
  port: number;
  nonce: string;
  timeoutMs: number;
}

/**
 * `connected`/`answered`: something accepted the connection or answered the
 * datagram. `no-route`: the kernel has no route (run.ts asks `ip route get`
 * first and sends nothing then), so no rule would see a packet. `refused`,
 * `unreachable` (an ICMP error), `timeout`, `not-sent` (the kernel refused
 * the datagram, as it does when an output rule drops it): no acceptance.
 */
export type SendOutcome =
  | "connected"
  | "answered"
  | "refused"
  | "unreachable"
  | "no-route"
  | "timeout"
  | "not-sent"
  | "error";

export interface SendResult {
  id: number;
  outcome: SendOutcome;
  detail: string;
  /** The peer as the sending socket sees it (TCP, connected). */
  remote?: string;
  /** The first line the listener sent back, if any (TCP), for the report. */
  reply?: string;
}

/** The DNS query a UDP probe sends: id 0, one A/AAAA question for `<nonce>.kuma-tproxy-verify.invalid`. */
export function dnsQuery(nonce: string, family: 4 | 6): Uint8Array {
  const labels = [nonce, "kuma-tproxy-verify", "invalid"];
  const name = labels.flatMap((l) => [l.length, ...new TextEncoder().encode(l)]);
  const qtype = family === 4 ? 1 : 28;
  return new Uint8Array([
    0,
    0,
    1,
    0,
    0,
    1,
    0,
    0,
    0,
    0,
    0,
    0, // id, RD, one question
    ...name,
    0,
    0,
    qtype,
    0,
    1,
  ]);
}

/** The nonce in a query {@link dnsQuery} built, or undefined. */
export function nonceOfQuery(packet: Uint8Array): string | undefined {
  if (packet.length < 13) return undefined;
  const len = packet[12];
  if (len === 0 || 13 + len > packet.length) return undefined;
  return new TextDecoder().decode(packet.subarray(13, 13 + len));
}

function classify(e: unknown): { outcome: SendOutcome; detail: string } {
  const message = e instanceof Error ? e.message : String(e);
  if (e instanceof Deno.errors.ConnectionRefused) return { outcome: "refused", detail: message };
  // With a route (checked before sending, run.ts), these come from an ICMP
  // error: the packet left this host.
  if (/os error 1\b|EPERM/.test(message)) {
    return { outcome: "not-sent", detail: `${message}: an output rule refused it` };
  }
  if (/os error (101|113)\b|E(NET|HOST)UNREACH/.test(message)) {
    return { outcome: "unreachable", detail: message };
  }
  return { outcome: "error", detail: message };
}

function timeout<T>(ms: number, value: T): { promise: Promise<T>; cancel: () => void } {
  let id: ReturnType<typeof setTimeout> | undefined;
  const promise = new Promise<T>((resolve) => id = setTimeout(() => resolve(value), ms));
  return { promise, cancel: () => clearTimeout(id) };
}

async function sendTcp(spec: SendSpec): Promise<SendResult> {
  const limit = timeout(spec.timeoutMs, "timeout" as const);
  const attempt = Deno.connect({ hostname: spec.addr, port: spec.port });
  try {
    const conn = await Promise.race([attempt, limit.promise]);
    if (conn === "timeout") {
      attempt.then((c) => c.close(), () => {});
      return { id: spec.id, outcome: "timeout", detail: `no answer within ${spec.timeoutMs} ms` };
    }
    const remote = conn.remoteAddr as Deno.NetAddr;
    let reply: string | undefined;
    try {
      await conn.write(new TextEncoder().encode(`kuma-tproxy-verify ${spec.nonce}\n`));
      // A listener that answers (the stand-in sidecar does) gets a moment to.
      const buf = new Uint8Array(256);
      const read = timeout(300, null);
      const n = await Promise.race([conn.read(buf).catch(() => null), read.promise]);
      read.cancel();
      if (n) reply = new TextDecoder().decode(buf.subarray(0, n)).split("\n")[0];
    } catch {
      // Accepted is what counts; the listener may close at once.
    } finally {
      try {
        conn.close();
      } catch { /* already closed */ }
    }
    const shown = remote.hostname.includes(":") ? `[${remote.hostname}]` : remote.hostname;
    return {
      id: spec.id,
      outcome: "connected",
      detail: "accepted",
      remote: `${shown}:${remote.port}`,
      reply,
    };
  } catch (e) {
    return { id: spec.id, ...classify(e) };
  } finally {
    limit.cancel();
  }
}

function sendUdp(spec: SendSpec): Promise<SendResult> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket(spec.family === 4 ? "udp4" : "udp6");
    let done = false;
    const finish = (r: Omit<SendResult, "id">) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      try {
        socket.close();
      } catch { /* closed */ }
      resolve({ id: spec.id, ...r });
    };
    const timer = setTimeout(
      () => finish({ outcome: "timeout", detail: `no answer within ${spec.timeoutMs} ms` }),
      spec.timeoutMs,
    );
    socket.on("error", (e) => finish(classify(e)));
    socket.on("message", () => finish({ outcome: "answered", detail: "answered" }));
    socket.send(dnsQuery(spec.nonce, spec.family), spec.port, spec.addr, (e) => {
      // Deno's node:dgram loses the errno ("send UNKNOWN"); with a route
      // (checked first) the usual cause is EPERM from a DROP on output.
      if (e) {
        finish({
          outcome: "not-sent",
          detail: `${e.message}: the kernel refused to send it, as it does under a DROP rule`,
        });
      }
    });
  });
}

/** Sends every probe at once; never throws. */
export function sendAll(specs: SendSpec[]): Promise<SendResult[]> {
  return Promise.all(specs.map((s) => s.proto === "tcp" ? sendTcp(s) : sendUdp(s)));
}
