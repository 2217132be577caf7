/**
 * scripts/demo.ts runs the README's Universal VM walkthrough step by step:
 * its step list is the README's code block, command for command.
 */
import { assertEquals } from "../../assert.ts";
import { readmeWalkthrough, WALKTHROUGH } from "../../../scripts/walkthrough.ts";

const README = new URL("../../../README.md", import.meta.url);

Deno.test("the demo's steps are the README's Universal VM walkthrough, in order", async () => {
  const readme = await Deno.readTextFile(README);
  assertEquals(WALKTHROUGH.map((s) => s.command), readmeWalkthrough(readme));
});

Deno.test("readmeWalkthrough joins continuation lines and reads only the walkthrough's block", () => {
  const readme = "```sh\nnot this\n```\nOn a Universal VM, as root:\n\n```sh\n" +
    "one --a \\\n  --b\n\ntwo &\n```\n```sh\nnor this\n```\n";
  assertEquals(readmeWalkthrough(readme), ["one --a --b", "two &"]);
});
