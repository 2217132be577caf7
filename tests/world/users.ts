/**
 * Host-wide test users. Users are not namespaced, so every world shares them;
 * several test processes may try to create them at the same moment, which is
 * why creation tolerates losing the race.
 */
import { SystemRunner } from "../../src/os/runner.ts";

/** UID of the sidecar stand-in: kumactl's default kuma-dp UID. */
export const KUMA_DP_UID = 5678;
/** UID the "application" runs as: anything that is not kuma-dp and not root. */
export const APP_UID = 5679;

const system = new SystemRunner();

async function uidExists(uid: number): Promise<boolean> {
  return (await system.run("getent", ["passwd", String(uid)])).code === 0;
}

/**
 * Makes sure a user with `uid` exists, creating `name` with that UID if not.
 * Any existing user with that UID is accepted: the tests only need the number.
 */
export async function ensureUser(name: string, uid: number): Promise<void> {
  let last = "";
  for (let attempt = 0; attempt < 20; attempt++) {
    if (await uidExists(uid)) return;
    const r = await system.run("useradd", [
      "-u",
      String(uid),
      "-U",
      "-M",
      "-s",
      "/usr/sbin/nologin",
      name,
    ]);
    if (r.code === 0) return;
    // Exit 10 is "cannot lock /etc/passwd" and 4/9 "UID/name already used":
    // both happen when another test creates the user at the same time, so
    // look again rather than fail.
    last = `useradd ${name} exited ${r.code}: ${r.stderr.trim()}`;
    await new Promise((ok) => setTimeout(ok, 100 + Math.random() * 200));
  }
  throw new Error(`Cannot create test user '${name}' (UID ${uid}): ${last}`);
}

/** Creates kuma-dp (5678) and ktp-app (5679) if they are missing. */
export async function ensureWorldUsers(): Promise<void> {
  await ensureUser("kuma-dp", KUMA_DP_UID);
  await ensureUser("ktp-app", APP_UID);
}
