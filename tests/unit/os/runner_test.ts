import { assertEquals } from "../../assert.ts";
import { SystemRunner } from "../../../src/os/runner.ts";

Deno.test("SystemRunner.run() keeps the exit code and stderr of a command that exits without reading its input", async () => {
  // More input than a pipe buffers (64 KiB), to a command that never reads it:
  // the write fails with a broken pipe, and the command's own answer must win.
  const input = "x".repeat(1 << 20);
  for (let i = 0; i < 5; i++) {
    const r = await new SystemRunner().run("sh", ["-c", "echo refusing >&2; exit 3"], {
      stdin: input,
    });
    assertEquals({ code: r.code, stderr: r.stderr }, { code: 3, stderr: "refusing\n" });
  }
});
