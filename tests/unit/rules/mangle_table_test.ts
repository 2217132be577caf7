import { buildContext } from "../../../src/rules/context.ts";
import { buildMangleTable } from "../../../src/rules/mangle_table.ts";
import { assertEquals } from "../../assert.ts";
import { config, effectiveSpecs, facts, functionality } from "./helpers.ts";

const drop = config((c) => {
  c.dropInvalidPackets = true;
});

Deno.test("buildMangleTable() drops INVALID packets in PREROUTING when asked to", () => {
  const { table, warnings } = buildMangleTable(buildContext(drop, facts(6)).context);
  assertEquals(effectiveSpecs(table, "PREROUTING"), ["-m conntrack --ctstate INVALID -j DROP"]);
  assertEquals(warnings, []);
  assertEquals(buildMangleTable(buildContext(config(), facts(4)).context).table.rules, []);
});

Deno.test("buildMangleTable() leaves the rule out with a warning when there is no mangle table", () => {
  const f = facts(4, { functionality: functionality((f) => (f.tables.mangle = false)) });
  const { table, warnings } = buildMangleTable(buildContext(drop, f).context);
  assertEquals(table.rules, []);
  assertEquals(warnings.length, 1);
});
