import { CommentError, fullComment } from "../../../src/rules/comment.ts";
import { appendRule } from "../../../src/rules/rule.ts";
import { jump } from "../../../src/rules/params.ts";
import { assertEquals, assertThrows } from "../../assert.ts";

Deno.test("fullComment() prefixes the text with kuma/mesh/transparent/proxy/", () => {
  assertEquals(fullComment("a b"), "kuma/mesh/transparent/proxy/a b");
});

Deno.test("fullComment() rejects quotes, which firewalld would re-quote", () => {
  assertThrows(() => fullComment("the envoy's port"), CommentError);
  assertThrows(() => fullComment('say "hi"'), CommentError);
  assertThrows(() => fullComment(""), CommentError);
});

Deno.test("fullComment() accepts 255 bytes in all and rejects 256", () => {
  const room = 255 - "kuma/mesh/transparent/proxy/".length;
  assertEquals(fullComment("x".repeat(room)).length, 255);
  assertThrows(() => fullComment("x".repeat(room + 1)), CommentError);
  // Bytes, not characters: "é" is two bytes in UTF-8.
  assertThrows(() => fullComment("é".repeat(Math.floor(room / 2) + 1)), CommentError);
});

Deno.test("appendRule() fails at build time on a bad comment", () => {
  assertThrows(() => appendRule("OUTPUT", "it's", [jump("RETURN")]), CommentError);
});
