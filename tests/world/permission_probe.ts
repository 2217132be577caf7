/**
 * Tries, one by one, the operations kuma-tproxy needs and some it must not be
 * able to do, and prints `{name: "allowed" | "denied"}` as JSON. Run it under
 * exactly the flags of scripts/permissions.txt (permissions_test.ts does, in a
 * private mount namespace with its own D-Bus at the production socket path).
 * "allowed" means Deno let the call through; the call itself may still fail
 * (a missing executable), which is not what this probe is about.
 */
import dbus from "dbus-next";

type Outcome = "allowed" | "denied" | `failed: ${string}`;

/** `strict`: a failure other than a permission error is reported, not counted as "allowed". */
async function attempt(fn: () => unknown, strict: boolean): Promise<Outcome> {
  try {
    await fn();
    return "allowed";
  } catch (e) {
    if (e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied) {
      return "denied";
    }
    return strict ? `failed: ${e}` : "allowed";
  }
}

function run(cmd: string) {
  return () =>
    new Deno.Command(cmd, { args: ["--version"], stdout: "null", stderr: "null" }).output();
}

/** Throws NotCapable unless the network `host` is granted, without using it. */
function netGranted(host: string): void {
  if (Deno.permissions.querySync({ name: "net", host }).state !== "granted") {
    throw new Deno.errors.NotCapable(`net ${host} not granted`);
  }
}

/** One D-Bus round trip to the bus daemon; dbus-next swallows some failures, hence the timeout. */
async function busCall(): Promise<void> {
  const bus = dbus.systemBus();
  try {
    const call = (async () => {
      const obj = await bus.getProxyObject("org.freedesktop.DBus", "/org/freedesktop/DBus");
      await obj.getInterface("org.freedesktop.DBus").ListNames();
    })();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise((_, fail) => {
      timer = setTimeout(() => fail(new Error("D-Bus call timed out")), 5000);
    });
    await Promise.race([call, timeout]).finally(() => clearTimeout(timer));
  } finally {
    bus.disconnect();
  }
}

/** Asks Deno whether a permission is granted, without using it; throws NotCapable when not. */
function granted(name: "write" | "run", target: string) {
  return () => {
    const desc: Deno.PermissionDescriptor = name === "write"
      ? { name, path: target }
      : { name, command: target };
    if (Deno.permissions.querySync(desc).state !== "granted") {
      throw new Deno.errors.NotCapable(`${name} ${target}`);
    }
  };
}

const checks: Record<string, () => unknown> = {
  "env KUMA_TRANSPARENT_PROXY_*": () => Deno.env.get("KUMA_TRANSPARENT_PROXY_REDIRECT_DNS_PORT"),
  "env PATH,HOME,NO_COLOR": () => ["PATH", "HOME", "NO_COLOR"].map((v) => Deno.env.get(v)),
  "env other": () => Deno.env.get("KTP_UNRELATED"),
  "env toObject": () => Deno.env.toObject(),
  "sys uid": () => Deno.uid(),
  "sys networkInterfaces": () => Deno.networkInterfaces(),
  "sys hostname": () => Deno.hostname(),
  "read any file": () => Deno.readTextFile("/etc/passwd"),
  "write /etc/firewalld": () => Deno.writeTextFile("/etc/firewalld/direct.xml", "<direct/>\n"),
  "write elsewhere": () => Deno.writeTextFile("/tmp/ktp-permission-probe", "x"),
  // Queried, not tried: the probe must not write to this machine's unit directory.
  "write /etc/systemd/system/kuma-tproxy.service": granted(
    "write",
    "/etc/systemd/system/kuma-tproxy.service",
  ),
  "write /etc/systemd/system/multi-user.target.wants/kuma-tproxy.service": granted(
    "write",
    "/etc/systemd/system/multi-user.target.wants/kuma-tproxy.service",
  ),
  "write /etc/systemd/system/kuma-tproxy-foo.service": granted(
    "write",
    "/etc/systemd/system/kuma-tproxy-foo.service",
  ),
  "write /etc/systemd/system/kuma-tproxy.service.d": granted(
    "write",
    "/etc/systemd/system/kuma-tproxy.service.d/x.conf",
  ),
  "write /etc/kuma-tproxy/boot.yaml": granted("write", "/etc/kuma-tproxy/boot.yaml"),
  // Queried, not run: systemctl must never be started on the machine itself.
  "run systemctl": granted("run", "systemctl"),
  "run /usr/bin/systemctl": granted("run", "/usr/bin/systemctl"),
  "run ln": granted("run", "ln"),
  "run cp": granted("run", "cp"),
  "run iptables-nft": run("iptables-nft"),
  "run ip6tables-legacy-restore": run("ip6tables-legacy-restore"),
  "run /usr/sbin/iptables-nft-save": run("/usr/sbin/iptables-nft-save"),
  "run /sbin/ip6tables": run("/sbin/ip6tables"),
  "run /bin/iptables-legacy": run("/bin/iptables-legacy"),
  "run getent": run("getent"),
  "run sh": run("sh"),
  "run ip": run("ip"),
  "run nft": run("nft"),
  "run /usr/sbin/nft": run("/usr/sbin/nft"),
  "run /usr/local/sbin/nft": run("/usr/local/sbin/nft"),
  "net tcp": () => Deno.connect({ hostname: "127.0.0.1", port: 9 }),
  "run setpriv": run("setpriv"),
  // Asked, not tried: this probe runs in the machine's own network namespace.
  "net 192.0.2.1": () => netGranted("192.0.2.1:80"),
  "net 192.0.2.2": () => netGranted("192.0.2.2:80"),
  "listen 127.0.0.1": () => netGranted("127.0.0.1:15001"),
  // verify's DNS probes to the IPv4 nameservers of /etc/resolv.conf: port 53 only.
  "net 10.0.0.53:53": () => netGranted("10.0.0.53:53"),
  "net 127.0.0.53:53": () => netGranted("127.0.0.53:53"),
  "net 10.0.0.53:80": () => netGranted("10.0.0.53:80"),
  "net [fd00::53]:53": () => netGranted("[fd00::53]:53"),
  "dbus /run/dbus/system_bus_socket": () => {
    Deno.env.set("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/run/dbus/system_bus_socket");
    return busCall();
  },
  "dbus default address": () => {
    // dbus-next's own default is unix:path=/var/run/dbus/system_bus_socket.
    Deno.env.delete("DBUS_SYSTEM_BUS_ADDRESS");
    return busCall();
  },
};

const result: Record<string, Outcome> = {};
for (const [name, fn] of Object.entries(checks)) {
  // A D-Bus call that fails for another reason is a broken setup, not "allowed".
  result[name] = await attempt(fn, name.startsWith("dbus"));
}
console.log(JSON.stringify(result));
