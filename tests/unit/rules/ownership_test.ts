import { assertEquals } from "../../assert.ts";
import {
  hasOurCommentWord,
  isOurChain,
  isOurComment,
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
