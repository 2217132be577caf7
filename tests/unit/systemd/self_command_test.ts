import { assertEquals } from "../../assert.ts";
import { selfCommand } from "../../../src/systemd/self_command.ts";

Deno.test("selfCommand() is the binary itself when compiled", () => {
  assertEquals(
    selfCommand({
      standalone: true,
      execPath: "/usr/local/bin/kuma-tproxy",
      mainModule: "file:///tmp/deno-compile-kuma-tproxy/src/main.ts",
    }),
    ["/usr/local/bin/kuma-tproxy"],
  );
});

Deno.test("selfCommand() is scripts/kuma-tproxy of the checkout when run from source", () => {
  assertEquals(
    selfCommand({
      standalone: false,
      execPath: "/srv/my repo/.tools/deno",
      mainModule: "file:///srv/my%20repo/src/main.ts",
    }),
    ["/srv/my repo/scripts/kuma-tproxy"],
  );
});
