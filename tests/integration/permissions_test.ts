/**
 * scripts/permissions.txt is what the binary and scripts/kuma-tproxy run
 * with. This runs a probe under exactly those flags and checks that every
 * kind of access the tool needs is granted (including D-Bus to a real bus
 * daemon at the system bus path) and that nearby ones stay denied.
 *
 * The probe runs in a private mount namespace: tmpfs over /run (so a private
 * dbus-daemon can listen at /run/dbus/system_bus_socket, the production path
 * the flags name) and over /etc/firewalld (so its write cannot touch the real
 * config).
 */
import { assertEquals } from "../assert.ts";
import { parsePermissions } from "../../scripts/compile.ts";
import { DOC_ADDRESSES } from "../../src/verify/paths.ts";

const root = new URL("../../", import.meta.url);
const flags = parsePermissions(
  await Deno.readTextFile(new URL("scripts/permissions.txt", root)),
);

Deno.test("permissions.txt grants nothing wholesale except reading", () => {
  const broad = flags.filter((f) => !f.includes("="));
  assertEquals(broad, ["--allow-read"]);
  const kinds = new Set(flags.map((f) => f.replace(/=.*/, "")));
  assertEquals([...kinds].sort(), [
    "--allow-env",
    "--allow-net",
    "--allow-read",
    "--allow-run",
    "--allow-sys",
    "--allow-write",
  ]);
  const net = flags.filter((f) => f.startsWith("--allow-net=")).flatMap((f) =>
    f.slice(12).split(",")
  );
  // Beyond D-Bus, only what verify needs (src/verify/paths.ts DOC_ADDRESSES and
  // the IPv4 nameservers' port 53, listen.ts).
  assertEquals(
    net.filter((n) => !n.startsWith("unix:")),
    [
      "0.0.0.0",
      "[::]",
      ...DOC_ADDRESSES[4],
      ...DOC_ADDRESSES[6].map((a) => `[${a}]`),
      "0.0.0.0/0:53",
    ],
    `network beyond D-Bus and verify: ${net}`,
  );
});

Deno.test("permissions.txt lets the tool do its job and nothing nearby", async () => {
  const deno = Deno.execPath();
  const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
  const script = [
    "set -e",
    "mount -t tmpfs tmpfs /run",
    "mkdir -p /run/dbus",
    "mount -t tmpfs tmpfs /etc/firewalld",
    "pid=$(dbus-daemon --config-file=/usr/share/dbus-1/session.conf " +
    "--address=unix:path=/run/dbus/system_bus_socket --fork --print-pid)",
    "trap 'kill $pid' EXIT",
    [
      quote(deno),
      "run",
      "--quiet",
      "--no-prompt",
      "--frozen",
      ...flags.map(quote),
      "tests/world/permission_probe.ts",
    ].join(" "),
  ].join("\n");
  const out = await new Deno.Command("unshare", {
    args: ["-m", "--propagation", "private", "sh", "-c", script],
    cwd: root,
    env: { KTP_UNRELATED: "1", KUMA_TRANSPARENT_PROXY_REDIRECT_DNS_PORT: "15053" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
  assertEquals(JSON.parse(stdout), {
    "env KUMA_TRANSPARENT_PROXY_*": "allowed",
    "env PATH,HOME,NO_COLOR": "allowed",
    "env other": "denied",
    // The CLI must read variables by name: a partial grant cannot list them.
    "env toObject": "denied",
    "sys uid": "allowed",
    "sys networkInterfaces": "allowed",
    "sys hostname": "denied",
    "read any file": "allowed",
    "write /etc/firewalld": "allowed",
    "write elsewhere": "denied",
    "write /etc/systemd/system/kuma-tproxy.service": "allowed",
    "write /etc/systemd/system/multi-user.target.wants/kuma-tproxy.service": "allowed",
    "write /etc/systemd/system/kuma-tproxy-foo.service": "denied",
    "write /etc/systemd/system/kuma-tproxy.service.d": "denied",
    "write /etc/kuma-tproxy/boot.yaml": "allowed",
    "run systemctl": "allowed",
    "run /usr/bin/systemctl": "allowed",
    "run ln": "allowed",
    "run cp": "denied",
    "run iptables-nft": "allowed",
    "run ip6tables-legacy-restore": "allowed",
    "run /usr/sbin/iptables-nft-save": "allowed",
    "run /sbin/ip6tables": "allowed",
    "run /bin/iptables-legacy": "allowed",
    "run getent": "allowed",
    "run sh": "denied",
    "run ip": "allowed",
    // The nftables backend: nft by name and at its standard paths, nowhere else.
    "run nft": "allowed",
    "run /usr/sbin/nft": "allowed",
    "run /usr/local/sbin/nft": "denied",
    "net tcp": "denied",
    "run setpriv": "allowed",
    "net 192.0.2.1": "allowed",
    "net 192.0.2.2": "denied",
    "listen 127.0.0.1": "denied",
    "net 10.0.0.53:53": "allowed",
    "net 127.0.0.53:53": "allowed",
    "net 10.0.0.53:80": "denied",
    "net [fd00::53]:53": "denied",
    "dbus /run/dbus/system_bus_socket": "allowed",
    "dbus default address": "allowed",
  });
});
