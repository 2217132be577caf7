/**
 * `deno task compile` either builds a binary or fails at once with the
 * documented air-gapped message. The smoke test of a real binary needs a
 * denort for this machine in DENORT_BIN; without one it says why it is skipped.
 */
import { assert, assertEquals, assertStringIncludes } from "../assert.ts";
import { VERSION } from "../../src/version.ts";

const root = new URL("../../", import.meta.url);
const TARGET = "x86_64-unknown-linux-gnu";

async function compile(args: string[], env: Record<string, string | undefined>) {
  const vars = { ...Deno.env.toObject(), ...env };
  for (const [k, v] of Object.entries(vars)) if (v === undefined) delete vars[k];
  const start = performance.now();
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", "compile", ...args],
    cwd: root,
    clearEnv: true,
    env: vars as Record<string, string>,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  return { code: out.code, text, seconds: (performance.now() - start) / 1000 };
}

Deno.test("compile fails at once without DENORT_BIN and says how to get denort", async () => {
  const r = await compile(["--target", "aarch64-unknown-linux-gnu"], { DENORT_BIN: undefined });
  assertEquals(r.code, 1, r.text);
  assert(r.seconds < 30, `took ${r.seconds}s: it must not wait for a download`);
  assertStringIncludes(r.text, "DENORT_BIN=/path/to/denort deno task compile");
  assertStringIncludes(
    r.text,
    `denort-aarch64-unknown-linux-gnu.zip of Deno v${Deno.version.deno}`,
  );
});

Deno.test("compile rejects a DENORT_BIN built for another architecture", async () => {
  // Any x86_64 ELF file stands in for the wrong denort of an aarch64 build.
  const r = await compile(["--target", "aarch64-unknown-linux-gnu"], {
    DENORT_BIN: Deno.execPath(),
  });
  assertEquals(r.code, 1, r.text);
  assertStringIncludes(r.text, "is built for x86_64-unknown-linux-gnu, not aarch64");
});

const denort = Deno.env.get("DENORT_BIN");
if (!denort) {
  console.log(
    "compile_test: smoke test of the binary skipped: DENORT_BIN is not set, so no binary " +
      "can be built on this machine (see `deno task compile` for how to get denort)",
  );
}

Deno.test({
  name: "compiled binary prints the version and matches its checksum",
  ignore: !denort || Deno.build.arch !== "x86_64",
  fn: async () => {
    const r = await compile(["--target", TARGET], {});
    assertEquals(r.code, 0, r.text);
    const bin = new URL(`dist/kuma-tproxy-${TARGET}`, root);
    const sum = await Deno.readTextFile(new URL(`dist/kuma-tproxy-${TARGET}.sha256`, root));
    const digest = new Uint8Array(
      await crypto.subtle.digest("SHA-256", await Deno.readFile(bin)),
    );
    const hex = Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
    assertEquals(sum, `${hex}  kuma-tproxy-${TARGET}\n`);
    const out = await new Deno.Command(bin, { args: ["--version"], stdout: "piped" }).output();
    assertEquals(out.code, 0);
    assertStringIncludes(new TextDecoder().decode(out.stdout), VERSION);
  },
});
