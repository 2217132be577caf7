/**
 * Golden-file assertions. Expected text lives in tests/testdata/<name>; run
 * the tests with `UPDATE_GOLDEN=1` (or `deno test ... -- --update`) to rewrite
 * the files instead of comparing, then review the diff in git.
 */
import { AssertionError } from "node:assert/strict";

const TESTDATA = new URL("./testdata/", import.meta.url);

/** Whether this run rewrites golden files instead of comparing with them. */
export function updatingGoldens(): boolean {
  return Deno.env.get("UPDATE_GOLDEN") === "1" || Deno.args.includes("--update");
}

/**
 * A readable line diff: `-` lines are expected only, `+` lines actual only,
 * two lines of context around each change. Uses a longest-common-subsequence
 * table, which is fine for golden files of a few hundred lines.
 */
export function lineDiff(expected: string, actual: string): string {
  const a = expected.split("\n");
  const b = actual.split("\n");
  const lcs: number[][] = Array.from({ length: a.length + 1 }, () => Array(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  const ops: { kind: " " | "-" | "+"; line: string }[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      ops.push({ kind: " ", line: a[i] });
      i++;
      j++;
    } else if (i < a.length && (j === b.length || lcs[i + 1][j] >= lcs[i][j + 1])) {
      ops.push({ kind: "-", line: a[i++] });
    } else {
      ops.push({ kind: "+", line: b[j++] });
    }
  }
  const near = (k: number) => ops.slice(Math.max(0, k - 2), k + 3).some((o) => o.kind !== " ");
  const out: string[] = [];
  let skipped = false;
  ops.forEach((op, k) => {
    if (near(k)) {
      if (skipped) out.push("  ...");
      skipped = false;
      out.push(`${op.kind} ${op.line}`);
    } else {
      skipped = true;
    }
  });
  return out.join("\n");
}

/**
 * Asserts that `actual` equals tests/testdata/<name>, or rewrites that file
 * when updating. A mismatch (or a missing file) fails with a line diff.
 */
export function assertGolden(name: string, actual: string): void {
  const url = new URL(name, TESTDATA);
  if (updatingGoldens()) {
    Deno.mkdirSync(new URL(".", url), { recursive: true });
    Deno.writeTextFileSync(url, actual);
    return;
  }
  let expected: string;
  try {
    expected = Deno.readTextFileSync(url);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new AssertionError({
        message:
          `Golden file tests/testdata/${name} is missing; run with UPDATE_GOLDEN=1 to create it`,
      });
    }
    throw e;
  }
  if (expected !== actual) {
    throw new AssertionError({
      message: `Output differs from golden file tests/testdata/${name} ` +
        `(- golden, + actual; UPDATE_GOLDEN=1 rewrites it):\n${lineDiff(expected, actual)}`,
    });
  }
}
