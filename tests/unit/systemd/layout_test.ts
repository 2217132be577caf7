import { assertEquals } from "../../assert.ts";
import { bootPaths, enableLink } from "../../../src/systemd/layout.ts";

const DIRS = { unitDir: "/etc/systemd/system", configDir: "/etc/kuma-tproxy" };

Deno.test("bootPaths() names our unit, config and WantedBy link", () => {
  assertEquals(bootPaths(DIRS), {
    unit: "/etc/systemd/system/kuma-tproxy.service",
    config: "/etc/kuma-tproxy/boot.yaml",
    wantsDir: "/etc/systemd/system/multi-user.target.wants",
    wantsLink: "/etc/systemd/system/multi-user.target.wants/kuma-tproxy.service",
  });
});

Deno.test("enableLink() is the absolute symlink systemctl enable creates", () => {
  assertEquals(enableLink(DIRS), {
    dir: "/etc/systemd/system/multi-user.target.wants",
    link: "/etc/systemd/system/multi-user.target.wants/kuma-tproxy.service",
    target: "/etc/systemd/system/kuma-tproxy.service",
  });
});
