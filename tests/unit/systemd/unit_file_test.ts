import { assert, assertEquals, assertThrows } from "../../assert.ts";
import { SystemdError } from "../../../src/systemd/errors.ts";
import { execLine, isOurUnit, renderUnit } from "../../../src/systemd/unit_file.ts";
import { assertGolden } from "../../golden.ts";

const CONFIG = "/etc/kuma-tproxy/boot.yaml";

Deno.test("renderUnit() matches the golden unit for a compiled binary", () => {
  assertGolden(
    "systemd/kuma-tproxy.compiled.service",
    renderUnit({ command: ["/usr/local/bin/kuma-tproxy"], configPath: CONFIG }),
  );
});

Deno.test("renderUnit() matches the golden unit for the from-source runner", () => {
  assertGolden(
    "systemd/kuma-tproxy.source.service",
    renderUnit({ command: ["/opt/kuma-tproxy/scripts/kuma-tproxy"], configPath: CONFIG }),
  );
});

Deno.test("renderUnit() writes the marker first, so ownership can be proved", () => {
  const text = renderUnit({ command: ["/usr/bin/kuma-tproxy"], configPath: CONFIG });
  assert(isOurUnit(text));
  assert(!isOurUnit("[Unit]\nDescription=an admin's kuma-tproxy.service\n"));
  assert(!isOurUnit(` ${text}`));
});

Deno.test("execLine() quotes what systemd would split or expand", () => {
  assertEquals(
    execLine(["/opt/my tools/kuma-tproxy"], "/etc/kuma-tproxy/boot.yaml"),
    `"/opt/my tools/kuma-tproxy" install --config /etc/kuma-tproxy/boot.yaml`,
  );
  // Specifiers (%) and variables ($) are expanded even inside quotes.
  assertEquals(
    execLine(["/opt/100%/$HOME/kt"], "/c.yaml"),
    `"/opt/100%%/$$HOME/kt" install --config /c.yaml`,
  );
  assertEquals(execLine(['/opt/a"b\\c'], "/c.yaml"), `"/opt/a\\"b\\\\c" install --config /c.yaml`);
});

Deno.test("execLine() refuses a relative command and unquotable words", () => {
  const e = assertThrows(() => execLine(["kuma-tproxy"], CONFIG), SystemdError);
  assertEquals(e.code, "bad_command");
  assertEquals(assertThrows(() => execLine([], CONFIG), SystemdError).code, "bad_command");
  assertEquals(
    assertThrows(() => execLine(["/opt/a\nb"], CONFIG), SystemdError).code,
    "bad_command",
  );
});
