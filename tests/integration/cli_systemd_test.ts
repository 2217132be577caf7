/**
 * `install --store-systemd` end to end: the real CLI (scripts/kuma-tproxy)
 * on a host without firewalld whose /etc/systemd/system, /etc/kuma-tproxy,
 * /run/systemd and systemctl are private to the test (../world/boot_host.ts),
 * judged by the real traffic of the world (./traffic_probes.ts).
 *
 * The reboot is simulated: every table of both iptables backends and every
 * nft table is emptied and ::6 leaves the loopback interface, as after a
 * boot; then the unit's ExecStart runs exactly as the unit file writes it,
 * with systemd's PATH, no other environment, from /.
 *
 * Needs root, `ip netns`, unshare/nsenter, overlayfs and systemd-analyze
 * (run with --allow-all).
 */
import { assert, assertEquals, assertNotEquals, assertStringIncludes } from "../assert.ts";
import { type BootHost, FOREIGN_UNITS, SYSTEMD_PATH, withBootHost } from "../world/boot_host.ts";
import { withFirewalldHost } from "../world/firewalld_host.ts";
import { KUMA_DP_UID, PORTS } from "../world/world.ts";
import { MODES } from "./iptables_fixtures.ts";
import {
  EXCLUDED_IP,
  EXCLUDED_UID,
  expected,
  LEGACY_FLAGS,
  prepare,
  probeAll,
  type ProbeName,
  saves,
} from "./traffic_probes.ts";

const UNIT = "/etc/systemd/system/kuma-tproxy.service";
const CONFIG = "/etc/kuma-tproxy/boot.yaml";
const LINK = "/etc/systemd/system/multi-user.target.wants/kuma-tproxy.service";
const ABSENT = { ".": "absent" };
/** nobody: a user who cannot read root's 0600 files. */
const NOBODY = 65534;

/** Config A: DNS redirect with port, IP and UID exclusions (the traffic test's first scenario). */
const A = [
  ...["--kuma-dp-user", String(KUMA_DP_UID)],
  ...["--exclude-inbound-ports", String(PORTS.hostExcluded)],
  ...["--exclude-outbound-ports", String(PORTS.peerExcluded)],
  ...["--exclude-outbound-ips", `${EXCLUDED_IP[4]},${EXCLUDED_IP[6]}`],
  ...["--exclude-outbound-ports-for-uids", String(EXCLUDED_UID)],
];
const FLAGS_A = [...A, "--redirect-dns"];
const REDIRECTS_A: ProbeName[] = [
  "inbound to the app",
  "outbound from the app",
  "DNS from the app",
  "kuma-dp to the host address",
];
/** Config B: the same without DNS redirection. */
const FLAGS_B = A;
const REDIRECTS_B: ProbeName[] = [
  "inbound to the app",
  "outbound from the app",
  "kuma-dp to the host address",
];

function assertOk(r: { code: number; stdout: string; stderr: string }, what: string) {
  assertEquals(r.code, 0, `${what} exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
}

/**
 * Every entry under `dir` of the host's file system, byte for byte: type,
 * mode, owner, and content or symlink target (never followed).
 */
async function tree(h: BootHost, dir: string): Promise<Record<string, string>> {
  const root = h.path(dir);
  const out: Record<string, string> = {};
  try {
    await Deno.lstat(root);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return { ...ABSENT };
    throw e;
  }
  const walk = async (rel: string) => {
    const st = await Deno.lstat(`${root}${rel}`);
    const meta = `${(st.mode! & 0o7777).toString(8)} ${st.uid}:${st.gid}`;
    if (st.isSymlink) out[rel || "."] = `link ${await Deno.readLink(`${root}${rel}`)}`;
    else if (st.isDirectory) {
      out[rel || "."] = `dir ${meta}`;
      const names = [];
      for await (const e of Deno.readDir(`${root}${rel}`)) names.push(e.name);
      for (const name of names.sort()) await walk(`${rel}/${name}`);
    } else {
      out[rel] = `file ${meta} ${
        btoa(String.fromCharCode(...await Deno.readFile(`${root}${rel}`)))
      }`;
    }
  };
  await walk("");
  return out;
}

async function trees(h: BootHost) {
  return { units: await tree(h, "/etc/systemd/system"), config: await tree(h, "/etc/kuma-tproxy") };
}

/**
 * The ExecStart= command as systemd splits it. Our unit writes plain words
 * (no quotes, escapes, specifiers or variables; asserted), which systemd
 * splits at spaces (systemd.syntax(7), "Quoting").
 */
function execStart(unit: string): string[] {
  const lines = unit.split("\n").filter((l) => l.startsWith("ExecStart="));
  assertEquals(lines.length, 1, unit);
  const command = lines[0].slice("ExecStart=".length);
  assert(!/["'\\%$]/.test(command), `ExecStart needs more than splitting at spaces: ${command}`);
  return command.split(" ");
}

/** What a reboot leaves: every table of both backends and every nft table empty, no ::6. */
async function reboot(h: BootHost): Promise<void> {
  const r = await h.run([
    "sh",
    "-ec",
    `
    nft flush ruleset
    for t in filter nat mangle raw security; do
      for x in iptables-legacy ip6tables-legacy; do $x -t $t -F; $x -t $t -X; done
    done
    ip -6 addr del ::6/128 dev lo 2>/dev/null || true`,
  ], { env: { PATH: SYSTEMD_PATH } });
  assertOk(r, "the simulated reboot");
  for (const [key, save] of Object.entries(await saves(h.world.host))) {
    assert(!/^-A /m.test(save), `${key} still has rules after the reboot:\n${save}`);
  }
}

/** Our lines of every backend's save: what the boot run must restore. */
function ours(all: Record<string, string>): Record<string, string[]> {
  return Object.fromEntries(
    Object.entries(all).map((
      [k, save],
    ) => [k, save.split("\n").filter((l) => /KUMA_MESH|kuma\/mesh\/transparent\/proxy/.test(l))]),
  );
}

/** Boots the host: the simulated reboot, then the unit's ExecStart as written. */
async function bootWithUnit(
  h: BootHost,
  redirects: ProbeName[],
  installed: Record<string, string>,
) {
  const w = h.world;
  await reboot(h);
  assertEquals(await probeAll(w), expected(w, []), "after the reboot, before the unit ran");
  const unit = await Deno.readTextFile(h.path(UNIT));
  const boot = await h.run(execStart(unit), { env: { PATH: SYSTEMD_PATH }, cwd: "/" });
  assertOk(boot, "the unit's ExecStart");
  assert(!boot.stderr.includes("[WARNING] the boot unit"), boot.stderr);
  assertEquals(await probeAll(w), expected(w, redirects), "after the unit ran");
  assertEquals(ours(await saves(w.host)), ours(installed), "the boot run restored every rule");
}

for (const mode of MODES) {
  Deno.test(`install --store-systemd: the unit restores every rule after a reboot, uninstall removes only ours (${mode})`, async () => {
    await withBootHost(async (h) => {
      const w = h.world;
      await prepare(w, mode);
      const backend = mode === "legacy" ? LEGACY_FLAGS : [];
      // nft: both mechanisms asked for on a host without firewalld, as a shared config may.
      const store = mode === "nft" ? ["--store-firewalld", "--store-systemd"] : ["--store-systemd"];
      const before = await trees(h);
      assertEquals(before.config, ABSENT);

      const dry = await h.cli(["install", "--dry-run", ...FLAGS_A, ...backend, ...store]);
      assertOk(dry, "install --dry-run");
      assertStringIncludes(dry.stdout, `### systemd (${UNIT}) ###`);
      assertStringIncludes(dry.stdout, `### systemd (${CONFIG}) ###`);
      assertEquals(await trees(h), before, "a dry run writes nothing");

      const first = await h.cli(["install", ...FLAGS_A, ...backend, ...store]);
      assertOk(first, "install --store-systemd");
      if (mode === "nft") assertStringIncludes(first.stderr, "firewalld is not installed");
      assertStringIncludes(first.stdout, `systemd: enabled kuma-tproxy.service (${LINK})`);
      assertEquals(await probeAll(w), expected(w, REDIRECTS_A), "after install");
      const installed = await saves(w.host);

      const unit = await Deno.readTextFile(h.path(UNIT));
      assertEquals(execStart(unit).slice(1), ["install", "--config", CONFIG]);
      const conf = await Deno.lstat(h.path(CONFIG));
      assertEquals([conf.mode! & 0o7777, conf.uid, conf.gid], [0o600, 0, 0]);
      assertEquals(await Deno.readLink(h.path(LINK)), UNIT);
      for (const [path, text] of Object.entries(FOREIGN_UNITS)) {
        assertEquals(await Deno.readTextFile(h.path(`/etc/systemd/system/${path}`)), text);
      }

      const verify = await h.run(["systemd-analyze", "verify", UNIT], {
        env: { PATH: SYSTEMD_PATH },
        netns: false,
      });
      assertEquals(
        [verify.code, verify.stdout, verify.stderr],
        [0, "", ""],
        "systemd-analyze verify",
      );

      // The symlink is the one `systemctl enable` makes: offline, on a copy of the unit.
      const sysroot = `${h.dir}/sysroot`;
      await Deno.mkdir(`${sysroot}/etc/systemd/system`, { recursive: true });
      await Deno.writeTextFile(`${sysroot}${UNIT}`, unit);
      const enable = await h.run([
        h.realSystemctl,
        `--root=${sysroot}`,
        "enable",
        "kuma-tproxy.service",
      ], {
        env: { PATH: SYSTEMD_PATH },
        netns: false,
      });
      assertOk(enable, "systemctl --root enable");
      assertEquals(await Deno.readLink(`${sysroot}${LINK}`), await Deno.readLink(h.path(LINK)));

      // A non-root user may look: the 0600 config is unreadable to it, which must not fail a dry run.
      const look = await h.cli(["install", "--dry-run", ...FLAGS_A, ...backend], { uid: NOBODY });
      assertOk(look, "install --dry-run as a non-root user");

      const status = await h.cli(["status", ...FLAGS_A, ...backend]);
      assertOk(status, "status");
      assertStringIncludes(
        status.stdout,
        "Boot (systemd, not running): unit installed, enabled, matches config\n",
      );

      await bootWithUnit(h, REDIRECTS_A, installed);
      assertOk(await h.cli(["status", ...FLAGS_A, ...backend]), "status after the boot run");

      // A new config rewrites the stored one; the next boot applies it.
      const storedA = await Deno.readTextFile(h.path(CONFIG));
      const again = await h.cli(["install", ...FLAGS_B, ...backend, ...store]);
      assertOk(again, "install --store-systemd with a new config");
      assertEquals(await Deno.readTextFile(h.path(UNIT)), unit, "the unit does not change");
      assertNotEquals(await Deno.readTextFile(h.path(CONFIG)), storedA);
      const stale = await h.cli(["status", ...FLAGS_A, ...backend]);
      assertEquals(stale.code, 3, stale.stdout);
      assertStringIncludes(stale.stdout, "differs from config (run install --store-systemd again)");
      await bootWithUnit(h, REDIRECTS_B, await saves(w.host));
      const plain = await h.cli(["install", ...FLAGS_A, ...backend]);
      assertOk(plain, "install without --store-systemd");
      assertStringIncludes(plain.stderr, "applies a different config at the next boot");
      assertOk(await h.cli(["install", ...FLAGS_B, ...backend, ...store]), "install B again");

      const removed = await h.cli(["uninstall", ...backend]);
      assertOk(removed, "uninstall");
      assertStringIncludes(removed.stdout, `systemd: removed ${UNIT}`);
      assertEquals(await trees(h), before, "uninstall leaves both directories as before install");
      assertEquals(Object.values(ours(await saves(w.host))).flat(), [], "none of our rules left");
      assertEquals(await probeAll(w), expected(w, []), "after uninstall");
      const after = await h.cli(["status", ...FLAGS_A, ...backend]);
      assertEquals(after.code, 4, after.stdout);
      assert(!after.stdout.includes("Boot"), after.stdout);
      assertEquals(await h.systemctlCalls(), [], "systemctl must not run where systemd does not");
    });
  });
}

Deno.test("install --store-systemd that cannot store keeps the previous rules and files; a foreign unit is never touched", async () => {
  await withBootHost(async (h) => {
    const w = h.world;
    await prepare(w, "nft");
    const pristine = await saves(w.host);

    // An administrator's own kuma-tproxy.service: refused before the kernel changes, kept by uninstall.
    await h.mnt.sh(`printf '[Service]\\nExecStart=/bin/true\\n' > ${UNIT}`);
    const withForeign = await trees(h);
    const refused = await h.cli(["install", ...FLAGS_A, "--store-systemd"]);
    assertEquals(refused.code, 1, refused.stderr);
    assertStringIncludes(refused.stderr, `${UNIT} exists but kuma-tproxy did not write it`);
    assertEquals(await saves(w.host), pristine, "a refused install changes no rule");
    assertEquals(await trees(h), withForeign);
    const kept = await h.cli(["uninstall"]);
    assertOk(kept, "uninstall with a foreign unit");
    assertStringIncludes(kept.stdout, `systemd: kept ${UNIT}: kuma-tproxy did not write this unit`);
    assertEquals(await trees(h), withForeign, "uninstall keeps the foreign unit");
    await h.mnt.sh(`rm ${UNIT}`);

    assertOk(await h.cli(["install", ...FLAGS_A, "--store-systemd"]), "install A");
    const rulesA = await saves(w.host);
    const filesA = await trees(h);

    // Cannot even stage: checked before the kernel changes.
    await h.mnt.sh(
      "mount --bind /etc/kuma-tproxy /etc/kuma-tproxy && mount -o remount,bind,ro /etc/kuma-tproxy",
    );
    const readOnly = await h.cli(["install", ...FLAGS_B, "--store-systemd"]);
    assertEquals(readOnly.code, 1, readOnly.stderr);
    assertStringIncludes(readOnly.stderr, "Nothing was changed");
    assert(!readOnly.stderr.includes("applying the transparent proxy rules"), readOnly.stderr);
    assertEquals(await saves(w.host), rulesA, "the rules of config A stay");
    assertEquals(await trees(h), filesA, "the files of config A stay");
    await h.mnt.sh("umount /etc/kuma-tproxy");

    // Fails after the kernel changed: the unit was disabled by hand and the
    // .wants directory is read-only, so enabling fails after the apply.
    const wants = "/etc/systemd/system/multi-user.target.wants";
    await h.mnt.sh(
      `rm ${LINK} && mount --bind ${wants} ${wants} && mount -o remount,bind,ro ${wants}`,
    );
    const filesDisabled = await trees(h);
    const late = await h.cli(["install", ...FLAGS_B, "--store-systemd"]);
    assertEquals(late.code, 1, late.stderr);
    assertStringIncludes(late.stderr, "the previous unit and config were put back");
    assertStringIncludes(late.stderr, "IPv4 rolled back to its prior state");
    assertStringIncludes(late.stderr, "IPv6 rolled back to its prior state");
    assertEquals(await saves(w.host), rulesA, "the kernel is back at config A");
    assertEquals(await trees(h), filesDisabled, "the files of config A are back");
    assertEquals(await probeAll(w), expected(w, REDIRECTS_A), "traffic as with config A");
    await h.mnt.sh(`umount ${wants}`);

    const status = await h.cli(["status", ...FLAGS_A]);
    assertEquals(status.code, 3, status.stdout);
    assertStringIncludes(status.stdout, "unit installed, not enabled");
    assertOk(await h.cli(["uninstall"]), "uninstall");
    assertEquals((await trees(h)).config, ABSENT);
  });
});

Deno.test({
  name:
    "install with both store flags where firewalld runs: firewalld stores, an earlier unit goes",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withFirewalldHost({ rfc3964Ipv4: false }, async (h) => {
      assertEquals(await h.firewalld.start(), "running");
      const exists = async (path: string) => (await h.inside("test", ["-e", path])).code === 0;
      // An earlier install persisted with systemd only (behind firewalld's back).
      const earlier = await h.cli(["install", "--kuma-dp-user", "5678", "--store-systemd"]);
      assertOk(earlier, "install --store-systemd");
      assert(await exists(UNIT) && await exists(CONFIG) && await exists(LINK));

      const both = await h.cli([
        "install",
        ...["--kuma-dp-user", "5678", "--store-firewalld", "--store-systemd"],
      ]);
      assertOk(both, "install --store-firewalld --store-systemd");
      assertStringIncludes(both.stderr, "the rules are stored in firewalld only");
      assertStringIncludes(both.stdout, "firewalld (D-Bus): stored");
      assertStringIncludes(both.stdout, `systemd: removed ${UNIT}`);
      for (const path of [UNIT, CONFIG, LINK, "/etc/kuma-tproxy"]) {
        assertEquals(await exists(path), false, `${path} after firewalld took over`);
      }
      const status = await h.cli([
        "status",
        ...["--kuma-dp-user", "5678", "--store-firewalld", "--store-systemd"],
      ]);
      assertEquals(status.code, 0, status.stdout + status.stderr);
      assert(!status.stdout.includes("Boot (systemd"), status.stdout);
      assertOk(await h.cli(["uninstall"]), "uninstall");
    }),
});
