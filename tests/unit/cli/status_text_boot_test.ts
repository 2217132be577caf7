import { assertEquals } from "../../assert.ts";
import { bootTarget, type BootUnitStatus } from "../../../src/ops/status_report.ts";
import { renderStatusText } from "../../../src/cli/status_text.ts";

const BOOT: BootUnitStatus = {
  mechanism: "systemd",
  unit: "ours",
  config: "ours",
  enabled: true,
  systemdRunning: true,
  matches: true,
  paths: { unit: "/etc/systemd/system/kuma-tproxy.service", config: "/etc/kuma-tproxy/boot.yaml" },
};

const line = (boot: Partial<BootUnitStatus>) =>
  renderStatusText({
    state: "installed",
    families: [],
    targets: [bootTarget({ ...BOOT, ...boot })],
  });

Deno.test("renderStatusText() names each state of the boot unit", () => {
  assertEquals(line({}), "Boot (systemd): unit installed, enabled, matches config\n");
  assertEquals(
    line({ systemdRunning: false, enabled: false, matches: false }),
    "Boot (systemd, not running): unit installed, not enabled, " +
      "differs from config (run install --store-systemd again)\n",
  );
  assertEquals(
    line({ config: "absent", matches: false }),
    "Boot (systemd): unit installed, enabled, /etc/kuma-tproxy/boot.yaml missing, " +
      "differs from config (run install --store-systemd again)\n",
  );
  assertEquals(
    line({ unit: "absent", config: "absent", enabled: false, matches: false }),
    "Boot (systemd): not installed\n",
  );
  assertEquals(
    line({ unit: "foreign", matches: false }),
    "Boot (systemd): /etc/systemd/system/kuma-tproxy.service is not ours " +
      "(kuma-tproxy did not write it)\n",
  );
});
