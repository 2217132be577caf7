/**
 * What a probe's outcome proves, pure: ok, failed or not checked, with the
 * reason the report prints.
 *
 * Who listens on the redirect port decides what an outcome means:
 * - `ours` (verify --listen): redirected exactly when our listener saw the
 *   probe's nonce;
 * - `theirs` (kuma-dp, or whatever listens there): an accepted connection to
 *   a documentation address, or an answer from one, can only come from this
 *   host, so it proves the redirect; which program accepted it is not known.
 *   An answer to a query sent to a real nameserver proves nothing (the
 *   nameserver answers too): not checked;
 * - `none`: a redirect would end in "connection refused", which a direct
 *   packet could meet too, so a direct path cannot be told from a redirect.
 *
 * @module
 */
import type { Probe } from "./paths.ts";
import type { SendResult } from "./send.ts";

export type Listener = "ours" | "theirs" | "none";
export type Verdict = "ok" | "failed" | "unchecked";

export interface PathResult {
  path: string;
  verdict: Verdict;
  reason: string;
  family?: 4 | 6;
  /** What the probe was: `tcp 192.0.2.1:80 as UID 65534`. */
  probe?: string;
  /** Which listener was on the redirect port. */
  listener?: Listener;
  /**
   * The first line the listener sent back on an accepted connection, as it
   * came (a stand-in that reads SO_ORIGINAL_DST may report it; Envoy says
   * nothing). Shown, never trusted for the verdict.
   */
  reply?: string;
}

const where = (p: Probe) => p.addr.includes(":") ? `[${p.addr}]:${p.port}` : `${p.addr}:${p.port}`;

function noRoute(p: Probe, r: SendResult): string {
  return `no route to ${where(p)} (${r.detail}): nothing sent, no rule would see it`;
}

/** The verdict on one probe. `seen`: our listener received its nonce. */
export function judge(p: Probe, r: SendResult, listener: Listener, seen: boolean): {
  verdict: Verdict;
  reason: string;
} {
  const to = `port ${p.redirectPort}`;
  if (r.outcome === "no-route") return { verdict: "unchecked", reason: noRoute(p, r) };
  // The probe never ran (setpriv missing, the child failed): nothing is proven either way.
  if (r.outcome === "error") return { verdict: "failed", reason: `could not probe: ${r.detail}` };
  const landed = listener === "ours"
    ? seen
    : listener === "theirs" && (r.outcome === "connected" || r.outcome === "answered");
  if (p.expect === "redirect") {
    if (landed && listener === "theirs" && p.answersDirect) {
      // A real nameserver answers too: the answer does not say who gave it.
      return {
        verdict: "unchecked",
        reason: `answered, but ${where(p)} answers a direct query too, so the listener on ${to} ` +
          `cannot be told from it; verify --listen proves it while nothing else listens on ${to}`,
      };
    }
    if (landed) {
      const by = listener === "ours"
        ? `verify's own listener on ${to} received it`
        : `${p.proto === "tcp" ? "accepted" : "answered"} by the listener on ${to}`;
      const orig = r.remote ? `, original destination ${r.remote} kept` : "";
      return { verdict: "ok", reason: `redirected to ${to}: ${by}${orig}` };
    }
    if (listener === "none") {
      return {
        verdict: "failed",
        reason: `nothing listens on ${to} (${r.outcome}: ${r.detail}); start kuma-dp, ` +
          "or run verify --listen to test the rules alone",
      };
    }
    return {
      verdict: "failed",
      reason: `not redirected to ${to}: ${r.outcome} (${r.detail})` +
        (r.outcome === "timeout" ? "; a DROP policy or rule, or no redirect rule" : ""),
    };
  }
  // expect direct
  if (listener === "none") {
    return {
      verdict: "unchecked",
      reason:
        `nothing listens on ${to}, so a wrong redirect could not be told from a direct packet`,
    };
  }
  if (landed) {
    return { verdict: "failed", reason: `redirected to ${to}, but must go direct` };
  }
  return {
    verdict: "ok",
    reason: `direct: not redirected to ${to} (${r.outcome}: ${r.detail})`,
  };
}
