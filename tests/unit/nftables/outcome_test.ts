import { assert, assertEquals } from "../../assert.ts";
import {
  describeNftExit,
  interruptedBySignal,
  judgeNftOutcome,
  sameLines,
} from "../../../src/nftables/outcome.ts";

Deno.test("judgeNftOutcome() tells unchanged, applied and neither apart, unchanged first", () => {
  assertEquals(judgeNftOutcome(undefined, undefined, false), "unchanged");
  assertEquals(judgeNftOutcome("old", "old", true), "unchanged");
  assertEquals(judgeNftOutcome(undefined, "new", true), "applied");
  assertEquals(judgeNftOutcome("old", "new", true), "applied");
  assertEquals(judgeNftOutcome("old", undefined, false), "other");
  assertEquals(judgeNftOutcome("old", "half", false), "other");
});

Deno.test("describeNftExit() names the signal of a killed nft; interruptedBySignal() only INT and TERM", () => {
  assertEquals(describeNftExit(137), "nft was killed by SIGKILL");
  assertEquals(describeNftExit(130), "nft was killed by SIGINT");
  assertEquals(describeNftExit(1), "nft exited 1");
  assert(interruptedBySignal(130) && interruptedBySignal(143));
  assert(!interruptedBySignal(137) && !interruptedBySignal(1));
});

Deno.test("sameLines() ignores the order of families and keys, not of rules", () => {
  const a = new Map([[4, new Map([["chain A", ["1", "2"]], ["set s", ["x"]]])]]);
  const b = new Map([[4, new Map([["set s", ["x"]], ["chain A", ["1", "2"]]])]]);
  assert(sameLines(a, b));
  assert(!sameLines(a, new Map([[4, new Map([["chain A", ["2", "1"]], ["set s", ["x"]]])]])));
});
