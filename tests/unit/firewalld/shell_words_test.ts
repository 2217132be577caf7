import { assertEquals, assertThrows } from "../../assert.ts";
import {
  joinArgs,
  restoreLine,
  ShellWordsError,
  splitArgs,
} from "../../../src/firewalld/shell_words.ts";

Deno.test("joinArgs() quotes like Python shlex.quote", () => {
  assertEquals(joinArgs(["-p", "tcp", "--dport", "15001:15006"]), "-p tcp --dport 15001:15006");
  assertEquals(joinArgs(["a b", "", "it's", "x&y", "!"]), `'a b' '' 'it'"'"'s' 'x&y' '!'`);
});

Deno.test("splitArgs() reverses joinArgs() for awkward arguments", () => {
  const cases = [
    ["-m", "comment", "--comment", "kuma/mesh/transparent/proxy/a b (c)"],
    ["it's", "", "tab\there", "back\\slash", `dq"`, "ünïcode", "$HOME", "*"],
  ];
  for (const args of cases) assertEquals(splitArgs(joinArgs(args)), args);
});

Deno.test("splitArgs() follows POSIX shlex for double quotes and backslashes", () => {
  assertEquals(splitArgs(`a\\ b "c \\"d\\" \\n" e''f`), ["a b", `c "d" \\n`, "ef"]);
  assertEquals(splitArgs("  \n\t "), []);
});

Deno.test("splitArgs() refuses what shlex.split refuses", () => {
  assertThrows(() => splitArgs(`--comment "open`), ShellWordsError);
  assertThrows(() => splitArgs("--comment 'open"), ShellWordsError);
  assertThrows(() => splitArgs("trailing\\"), ShellWordsError);
});

Deno.test("restoreLine() wraps arguments with whitespace in double quotes like firewalld", () => {
  assertEquals(
    restoreLine(["-A", "OUTPUT", "--comment", "a b", "--x", '"already quoted"']),
    `-A OUTPUT --comment "a b" --x "already quoted"`,
  );
});
