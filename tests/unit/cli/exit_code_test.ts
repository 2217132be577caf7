/**
 * exitCodeOf() (src/ops/errors.ts) is the one mapping from a thrown error to
 * the exit code; this holds it to the exit-code table for every error class
 * a command can end with.
 */
import { assertEquals } from "../../assert.ts";
import { ConfigError } from "../../../src/config/errors.ts";
import { exitCodeOf, UserError } from "../../../src/ops/errors.ts";
import { EXIT } from "../../../src/ops/exit_codes.ts";
import { FirewalldError } from "../../../src/firewalld/errors.ts";
import { ExecError, ExecutablesError, UnsafeStateError } from "../../../src/iptables/errors.ts";
import { ApplyError } from "../../../src/iptables/transaction.ts";
import { UninstallError } from "../../../src/iptables/uninstall.ts";
import { NftError } from "../../../src/nftables/errors.ts";
import { BoundedReadError } from "../../../src/os/bounded_read.ts";
import { SystemdError } from "../../../src/systemd/errors.ts";

Deno.test("exitCodeOf(): 2 for config and usage errors, 1 for every other error, never 3 or 4", () => {
  const config = new ConfigError({
    code: "invalid_value",
    path: "redirect.dns.port",
    source: "flag:--redirect-dns-port",
    value: "70000",
    reason: "is not a port",
    expected: "1-65535",
  });
  const cases: [string, unknown, number][] = [
    ["ConfigError", config, EXIT.USAGE],
    ["UserError, usage", new UserError("unknown option", EXIT.USAGE), EXIT.USAGE],
    ["UserError", new UserError("refused"), EXIT.FAILURE],
    ["FirewalldError", new FirewalldError("rfc3964_ipv4", "refused"), EXIT.FAILURE],
    // nft's own exit code (137: killed) is evidence, never ours.
    ["NftError", new NftError("rejected", "nft -f failed", "", 137), EXIT.FAILURE],
    ["ExecError", new ExecError({ command: ["x"], exitCode: 2, stderr: "" }), EXIT.FAILURE],
    ["ExecutablesError", new ExecutablesError("not_found", "no iptables"), EXIT.FAILURE],
    ["UnsafeStateError", new UnsafeStateError("foreign_jump", "nat", "-A X", "m"), EXIT.FAILURE],
    ["ApplyError", new ApplyError("test_failed", [], []), EXIT.FAILURE],
    ["UninstallError", new UninstallError({ dryRun: false, backends: [] }), EXIT.FAILURE],
    ["SystemdError", new SystemdError("io", "cannot write"), EXIT.FAILURE],
    ["BoundedReadError", new BoundedReadError("too_large", "/x", "is big", "small"), EXIT.FAILURE],
    ["a bug", new TypeError("x is undefined"), EXIT.FAILURE],
    ["not an Error", "thrown string", EXIT.FAILURE],
  ];
  for (const [what, error, code] of cases) assertEquals(exitCodeOf(error), code, what);
});

Deno.test("the layers' errors name what went wrong in `code`, not `kind`", () => {
  const errors: Error[] = [
    new NftError("not_found", "no nft"),
    new ExecError({
      command: ["x"],
      exitCode: 4,
      stderr: "Another app is currently holding the xtables lock",
    }),
    new BoundedReadError("not_regular", "/x", "is a directory", "a file"),
    new FirewalldError("bus", "failed"),
    new SystemdError("io", "failed"),
    new ExecutablesError("mixed_types", "mixed"),
  ];
  assertEquals(
    errors.map((e) => [e.name, (e as { code?: unknown }).code, "kind" in e]),
    [
      ["NftError", "not_found", false],
      ["ExecError", "lock_held", false],
      ["BoundedReadError", "not_regular", false],
      ["FirewalldError", "bus", false],
      ["SystemdError", "io", false],
      ["ExecutablesError", "mixed_types", false],
    ],
  );
});
