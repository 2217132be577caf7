import { assertEquals, assertThrows } from "../../../assert.ts";
import { formatDuration, parseConfirmTimeout } from "../../../../src/ops/confirm/duration.ts";

Deno.test("parseConfirmTimeout() takes units, sums and bare seconds within 1s..1h", () => {
  const cases: [string, number][] = [
    ["1s", 1_000],
    ["3s", 3_000],
    ["2m", 120_000],
    ["1m30s", 90_000],
    ["1500ms", 1_500],
    ["1h", 3_600_000],
    ["10", 10_000],
    [" 5s ", 5_000],
  ];
  for (const [text, ms] of cases) assertEquals(parseConfirmTimeout(text), ms, text);
});

Deno.test("parseConfirmTimeout() refuses what is no duration or out of range, with the reason", () => {
  const bad: [string, string][] = [
    ["", "invalid duration"],
    ["0s", "out of range"],
    ["999ms", "out of range"],
    ["61m", "out of range"],
    ["2h", "out of range"],
    ["-5s", "invalid duration"],
    ["1.5s", "invalid duration"],
    ["5 s", "invalid duration"],
    ["5d", "invalid duration"],
    ["s", "invalid duration"],
    ["99999999999999999999h", "out of range"],
  ];
  for (const [text, why] of bad) {
    const e = assertThrows(() => parseConfirmTimeout(text), RangeError);
    assertEquals(e.message.includes(why), true, `${JSON.stringify(text)}: ${e.message}`);
  }
});

Deno.test("formatDuration() says a duration as it is typed", () => {
  assertEquals(
    [3_000, 90_000, 120_000, 3_600_000, 3_661_000, 0].map(formatDuration),
    ["3s", "1m30s", "2m", "1h", "1h1m1s", "0s"],
  );
});
