/**
 * `install --json`, `uninstall --json` and `status --json`: one object on
 * stdout on every exit, valid against docs/report.schema.json, saying what
 * changed. Driven through cli() on the in-memory host (_memory_host.ts).
 */
import { assert, assertEquals, assertStringIncludes } from "../../assert.ts";
import { cli } from "../../../src/cli/cli.ts";
import { EXIT } from "../../../src/ops/exit_codes.ts";
import { validate } from "../../json_schema.ts";
import { DRIFTED, memoryHost } from "./_memory_host.ts";

const SCHEMA = JSON.parse(
  await Deno.readTextFile(new URL("../../../docs/report.schema.json", import.meta.url)),
);

const IPV4 = ["--ip-family-mode", "ipv4"];

/** Runs argv and returns the exit code and the one JSON object on stdout, checked against the schema. */
async function report(argv: string[], host: Parameters<typeof memoryHost>[0] = {}) {
  const h = await memoryHost(host);
  const code = await cli(argv, h.io);
  const json = JSON.parse(h.out());
  assertEquals(validate(SCHEMA, json), [], `${argv.join(" ")}: ${h.out()}`);
  assertEquals(json.exitCode, code);
  return { code, json, err: h.err(), restores: h.restores() };
}

Deno.test("validate() refuses a report the schema does not allow", async () => {
  const { json } = await report(["install", "--json", ...IPV4]);
  const broken = { ...json, changed: "yes" };
  delete broken.exitMeaning;
  assertEquals(validate(SCHEMA, broken).length > 0, true);
  assertEquals(validate(SCHEMA, { ...json, extra: 1 }).length > 0, true);
});

Deno.test("install --json reports what it installed, changed: true", async () => {
  const { code, json, err } = await report(["install", "--json", ...IPV4]);
  assertEquals(code, EXIT.OK, err);
  assertEquals([json.command, json.dryRun, json.changed], ["install", false, true]);
  assertEquals(json.changes, [
    {
      family: 4,
      backend: "iptables-nft",
      action: "installed",
      via: "kernel",
      rules: 11,
      chains: 4,
    },
  ]);
  // The text form's stdout, kept; the messages of stderr too.
  assertEquals(json.output, "IPv4 (nft): installed 11 rules and 4 chains\n");
  assertStringIncludes(
    json.messages.join("\n"),
    "transparent proxy installed; run kuma-dp with the transparent proxy enabled",
  );
  assertEquals(json.exitMeaning, "success (status: installed and matching the config)");
  // stderr keeps its lines for people.
  assertStringIncludes(err, "# transparent proxy installed");
});

Deno.test("install --json over an earlier installation reports it replaced", async () => {
  const { json } = await report(["install", "--json", ...IPV4], { save: DRIFTED });
  // IPv4 replaced in its restore; the IPv6 installation (the fake host's ip6tables has one too)
  // removed after, since --ip-family-mode ipv4 installs none there.
  assertEquals(
    json.changes.map((c: { family: number; action: string }) => `${c.family} ${c.action}`),
    ["4 replaced", "6 removed", "4 installed"],
  );
  assertEquals(json.changes[0], {
    family: 4,
    backend: "iptables-nft",
    action: "replaced",
    via: "kernel",
    rules: 1,
    chains: 1,
  });
});

Deno.test("install --dry-run --json: the rules in output, changed: false, the warning listed", async () => {
  const { code, json, restores } = await report(["install", "--dry-run", "--json", ...IPV4], {
    uid: 1000,
  });
  assertEquals(code, EXIT.OK);
  assertEquals([json.dryRun, json.changed, json.changes], [true, false, []]);
  assertStringIncludes(json.output, "-A KUMA_MESH_OUTBOUND");
  assertEquals(json.warnings, [
    "[dry-run] running as a non-root user: the iptables backend cannot be probed",
  ]);
  assertEquals(restores, []);
});

Deno.test("install --json failing: the error and exit code, changed false or unknown", async () => {
  // A refusal before the first change changed nothing: false, not unknown.
  const notRoot = await report(["install", "--json"], { uid: 1000 });
  assertEquals([notRoot.code, notRoot.json.changed], [EXIT.FAILURE, false]);
  assertStringIncludes(notRoot.json.error, "install needs root privileges");
  assertStringIncludes(notRoot.err, "kuma-tproxy: install needs root privileges");

  const bad = await report(["install", "--json", "--redirect-dns-port", "0"]);
  assertEquals([bad.code, bad.json.changed, bad.json.dryRun], [EXIT.USAGE, false, null]);
  assertStringIncludes(bad.json.error, "redirect");
  assertEquals(bad.json.exitMeaning, "usage or config error: nothing was changed");
});

Deno.test("uninstall --json reports each removal; nothing found is changed: false", async () => {
  const { code, json } = await report(["uninstall", "--json"], { save: DRIFTED });
  assertEquals(code, EXIT.OK);
  assertEquals([json.command, json.changed], ["uninstall", true]);
  assertEquals(
    json.changes,
    [4, 6].map((family) => ({
      family,
      backend: "iptables-nft",
      action: "removed",
      via: "kernel",
      rules: 1,
      chains: 1,
    })),
  );

  const none = await report(["uninstall", "--json"]);
  assertEquals([none.code, none.json.changed, none.json.changes], [EXIT.OK, false, []]);
  assertEquals(none.json.output, "no transparent proxy rules found\n");

  const dry = await report(["uninstall", "--dry-run", "--json"], { save: DRIFTED });
  assertEquals([dry.json.dryRun, dry.json.changed, dry.json.changes.length], [true, false, 2]);
  assertEquals(dry.restores, []);

  const notRoot = await report(["uninstall", "--json"], { uid: 1000 });
  assertEquals([notRoot.code, notRoot.json.changed], [EXIT.FAILURE, false]);
});

Deno.test("status --json carries the schema version, exit code and warnings on every exit", async () => {
  const none = await report(["status", "--json", ...IPV4]);
  assertEquals([none.code, none.json.state, none.json.schemaVersion], [
    EXIT.NOT_INSTALLED,
    "not-installed",
    2,
  ]);
  assertEquals(none.json.exitMeaning, "status: nothing of ours is installed");
  // No firewalld and no boot unit on the in-memory host: no persistence target to list.
  assertEquals(none.json.targets, []);

  const drift = await report(["status", "--json", ...IPV4], { save: DRIFTED });
  assertEquals([drift.code, drift.json.state], [EXIT.DRIFT, "drift"]);

  const notRoot = await report(["status", "--json"], { uid: 1000 });
  assertEquals([notRoot.code, notRoot.json.state], [EXIT.FAILURE, "error"]);

  const bad = await report(["status", "--json", "--redirect-dns-port", "0"]);
  assertEquals([bad.code, bad.json.state], [EXIT.USAGE, "error"]);
});

Deno.test("install and uninstall without --json print what they always did, no JSON", async () => {
  const h = await memoryHost();
  assertEquals(await cli(["install", ...IPV4], h.io), EXIT.OK, h.err());
  assertEquals(h.out(), "IPv4 (nft): installed 11 rules and 4 chains\n");
  assert(!h.out().includes("{"));
});
