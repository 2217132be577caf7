/**
 * RunReportBuilder.finish(): `changed` after each kind of ending, as the
 * README's "JSON reports" describes it.
 */
import { assertEquals } from "../../assert.ts";
import { RunReportBuilder } from "../../../src/ops/report.ts";

const ERROR = { error: "it failed" };

Deno.test("changed: false after a refusal before the first change, null after one past it", () => {
  const refused = new RunReportBuilder("install");
  refused.setDryRun(false);
  assertEquals(refused.finish(1, "failure", ERROR).changed, false);

  const failed = new RunReportBuilder("install");
  failed.setDryRun(false);
  failed.mayChange();
  assertEquals(failed.finish(1, "failure", ERROR).changed, null);
});

Deno.test("changed: what was recorded or settled wins over the failure", () => {
  const recorded = new RunReportBuilder("uninstall");
  recorded.mayChange();
  recorded.persisted("systemd", "systemd: removed a file");
  assertEquals(recorded.finish(1, "failure", ERROR).changed, true);

  const unchanged = new RunReportBuilder("install");
  unchanged.setDryRun(false);
  unchanged.mayChange();
  unchanged.settle(false);
  assertEquals(unchanged.finish(0, "success").changed, false);

  const dry = new RunReportBuilder("install");
  dry.setDryRun(true);
  dry.mayChange();
  assertEquals(dry.finish(1, "failure", ERROR).changed, false);
});
