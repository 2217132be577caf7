import { assertEquals } from "../../assert.ts";
import { parseLoopback, parseNameservers, parsePasswd } from "../../../src/host/parse.ts";

Deno.test("parseNameservers() returns servers in order and skips comments and zones", () => {
  const text = [
    "# generated",
    "search example.com",
    "nameserver 10.0.0.2",
    "nameserver fe80::1%eth0 # link-local",
    ";nameserver 9.9.9.9",
    "  nameserver   fd00::53  ",
    "options ndots:5",
  ].join("\n");
  assertEquals(parseNameservers(text), ["10.0.0.2", "fe80::1", "fd00::53"]);
});

Deno.test("parsePasswd() reads name and uid, skipping malformed lines", () => {
  const text =
    "root:x:0:0:root:/root:/bin/bash\nbroken\nkuma-dp:x:5678:5678::/home/kuma-dp:/bin/false\n";
  assertEquals(parsePasswd(text), [{ name: "root", uid: 0 }, { name: "kuma-dp", uid: 5678 }]);
});

Deno.test("parseLoopback() finds the interface with the LOOPBACK flag, whatever its name", () => {
  const out = [
    "2: eth0@if7: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP\\    link/ether 02:42:ac:11:00:02",
    "1: lo0: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN\\    link/loopback 00:00:00:00:00:00",
  ].join("\n");
  assertEquals(parseLoopback(out), "lo0");
  assertEquals(parseLoopback(out.split("\n")[0]), undefined);
});
