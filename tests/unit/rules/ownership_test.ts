import { assertEquals } from "../../assert.ts";
import {
  hasOurCommentWord,
  isForeignJump,
  isOurChain,
  isOurComment,
  isOurRule,
  jumpTargetOf,
} from "../../../src/rules/ownership.ts";
import { fullComment } from "../../../src/rules/comment.ts";
import { chainNames } from "../../../src/rules/context.ts";
import { defaultConfig } from "../../../src/config/defaults.ts";

Deno.test("isOurComment() needs the tag followed by a slash", () => {
  const cases: [string, boolean][] = [
    ["kuma/mesh/transparent/proxy/prevent traffic loops", true],
    ["kuma/mesh/transparent/proxy/", true],
    ["kuma/mesh/transparent/proxy", false],
    ["kuma/mesh/transparent/proxyX admin", false],
    ["kuma/mesh/transparent/proxy-old", false],
    ["Kuma/mesh/transparent/proxy/x", false],
    [" kuma/mesh/transparent/proxy/x", false],
    ["ssh access", false],
  ];
  for (const [text, ours] of cases) assertEquals(isOurComment(text), ours, text);
});

Deno.test("isOurComment() holds for every comment fullComment() builds", () => {
  assertEquals(isOurComment(fullComment("x")), true);
});

Deno.test("isOurChain() needs KUMA_MESH_ followed by a name", () => {
  const cases: [string, boolean][] = [
    ["KUMA_MESH_OUTBOUND", true],
    ["KUMA_MESH_X", true],
    ["KUMA_MESH_", false],
    ["KUMA_MESH", false],
    ["KUMA_MESHY", false],
    ["KUMA_MESHY_OUTBOUND", false],
    ["kuma_mesh_outbound", false],
    ["DOCKER_OUTPUT", false],
  ];
  for (const [name, ours] of cases) assertEquals(isOurChain(name), ours, name);
});

Deno.test("isOurChain() holds for every chain name the builders use", () => {
  for (const name of Object.values(chainNames(defaultConfig()))) {
    assertEquals(isOurChain(name), true, name);
  }
});

Deno.test("hasOurCommentWord() looks only at --comment values", () => {
  assertEquals(hasOurCommentWord(["--comment", "kuma/mesh/transparent/proxy/x"]), true);
  assertEquals(hasOurCommentWord(["--comment", "kuma/mesh/transparent/proxyX"]), false);
  assertEquals(hasOurCommentWord(["--string", "kuma/mesh/transparent/proxy/x"]), false);
  assertEquals(hasOurCommentWord(["kuma/mesh/transparent/proxy/x"]), false);
  assertEquals(hasOurCommentWord(["--comment"]), false);
});

Deno.test("jumpTargetOf() reads -j, --jump, -g and --goto", () => {
  for (const opt of ["-j", "--jump", "-g", "--goto"]) {
    assertEquals(jumpTargetOf(["-p", "tcp", opt, "KUMA_MESH_X"]), "KUMA_MESH_X");
  }
  assertEquals(jumpTargetOf(["-p", "tcp"]), undefined);
});

Deno.test("isOurRule() is our chain or our comment, never where the rule jumps", () => {
  const tagged = ["-m", "comment", "--comment", "kuma/mesh/transparent/proxy/x", "-j", "RETURN"];
  assertEquals(isOurRule("KUMA_MESH_INBOUND", ["-j", "RETURN"]), true);
  assertEquals(isOurRule("OUTPUT", tagged), true);
  assertEquals(isOurRule("OUTPUT", ["-p", "tcp", "-j", "KUMA_MESH_OUTBOUND"]), false);
  assertEquals(isOurRule("KUMA_MESHY", ["-j", "RETURN"]), false);
});

Deno.test("isForeignJump() is a rule not ours that jumps or goes to one of our chains", () => {
  const cases: [string, string[], boolean][] = [
    ["PREROUTING", ["-p", "tcp", "--dport", "28", "-j", "KUMA_MESH_INBOUND"], true],
    ["OUTPUT", ["--goto", "KUMA_MESH_OUTBOUND"], true],
    [
      "OUTPUT",
      ["-m", "comment", "--comment", "kuma/mesh/transparent/proxyX", "-j", "KUMA_MESH_A"],
      true,
    ],
    [
      "OUTPUT",
      ["-m", "comment", "--comment", "kuma/mesh/transparent/proxy/x", "-j", "KUMA_MESH_A"],
      false,
    ],
    // Inside our chain the rule is ours, wherever it jumps.
    ["KUMA_MESH_INBOUND", ["-j", "KUMA_MESH_INBOUND_REDIRECT"], false],
    ["OUTPUT", ["-j", "KUMA_MESHY"], false],
    ["OUTPUT", ["-j", "KUMA_MESH_"], false],
    ["OUTPUT", ["-m", "comment", "--comment", "-j KUMA_MESH_A", "-j", "ACCEPT"], false],
  ];
  for (const [chain, words, foreign] of cases) {
    assertEquals(isForeignJump(chain, words), foreign, `${chain} ${words.join(" ")}`);
  }
});
