import { assertEquals, assertMatch } from "../../assert.ts";
import { classifyStderr, ExecError, failedLine } from "../../../src/iptables/errors.ts";

Deno.test("classifyStderr() names the kinds iptables reports", () => {
  const cases: [string, string][] = [
    [
      "Another app is currently holding the xtables lock. Perhaps you want to use the -w option?",
      "lock_held",
    ],
    [
      "iptables v1.8.9 (legacy): Couldn't load match `foo':No such file or directory",
      "missing_module",
    ],
    ["iptables: No chain/target/match by that name.", "missing_module"],
    [
      "iptables v1.8.9 (legacy): can't initialize iptables table `nat': Permission denied (you must be root)",
      "permission",
    ],
    ['exec of "iptables-nft-restore" failed: No such file or directory', "not_found"],
    ["iptables-restore: line 7 failed", "bad_rule"],
    [
      'iptables-nft-restore v1.8.9 (nf_tables): unknown option "--bogus"\nError occurred at line: 2',
      "bad_rule",
    ],
    ["something else entirely", "unknown"],
  ];
  for (const [stderr, kind] of cases) assertEquals(classifyStderr(stderr), kind, stderr);
});

Deno.test("failedLine() reads both legacy and nft line reports", () => {
  assertEquals(failedLine("iptables-restore: line 7 failed\n"), 7);
  assertEquals(failedLine("...: Chain 'NOPE' does not exist\nError occurred at line: 12\n"), 12);
  assertEquals(failedLine("line 3: CHAIN_DEL failed (Device or resource busy): chain X"), 3);
  assertEquals(failedLine("no line here"), undefined);
});

Deno.test("ExecError() quotes the failing restore line and keeps the evidence", () => {
  const input = "*nat\n-A OUTPUT -j RETURN\n-A OUTPUT -m nosuch -j RETURN\nCOMMIT\n";
  const stderr =
    "iptables-restore v1.8.9 (legacy): Couldn't load match `nosuch':No such file or directory\n\n" +
    "Error occurred at line: 3\nTry `iptables-restore -h' or 'iptables-restore --help' for more information.\n";
  const e = new ExecError({
    command: ["iptables-restore", "--noflush"],
    exitCode: 2,
    stderr,
    input,
  });
  assertEquals(e.code, "missing_module");
  assertEquals(e.line, 3);
  assertEquals(e.rule, "-A OUTPUT -m nosuch -j RETURN");
  assertEquals(e.stderr, stderr);
  assertEquals(e.exitCode, 2);
  assertMatch(e.message, /iptables-restore --noflush/);
  assertMatch(e.message, /at line 3: -A OUTPUT -m nosuch -j RETURN/);
});

Deno.test("ExecError() without input names no rule", () => {
  const e = new ExecError({ command: ["x"], exitCode: 1, stderr: "line 2 failed" });
  assertEquals(e.rule, undefined);
  assertEquals(e.line, undefined);
});
