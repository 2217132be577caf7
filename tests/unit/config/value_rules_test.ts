/**
 * The one rule for lists and scalars (README "Value formats"), the list
 * limit, and how unreadable or oversized sources are reported.
 */
import { assert, assertEquals, assertRejects, assertStringIncludes } from "../../assert.ts";
import { resolveConfig, splitConfigSources } from "../../../src/config/resolve.ts";
import { ConfigError, MAX_SHOWN_PROBLEMS, showValue } from "../../../src/config/errors.ts";
import { MAX_LIST_ITEMS } from "../../../src/config/values.ts";
import { BoundedReadError } from "../../../src/os/bounded_read.ts";
import { fakeInputs, flag, oneFile, rejection } from "./fake_inputs.ts";

const E = "KUMA_TRANSPARENT_PROXY_";

Deno.test("resolveConfig() takes an empty or blank string as the empty list", async () => {
  const { config } = await resolveConfig(fakeInputs({
    env: { [`${E}REDIRECT_INBOUND_EXCLUDE_PORTS`]: "", [`${E}REDIRECT_VNET_NETWORKS`]: "  " },
    flags: [flag("--exclude-outbound-ips", "redirect.outbound.excludePortsForIPs", "")],
  }));
  assertEquals(config.redirect.inbound.excludePorts, []);
  assertEquals(config.redirect.vnet.networks, []);
  assertEquals(config.redirect.outbound.excludePortsForIPs, []);
});

Deno.test("resolveConfig() names the whole list when an entry is empty", async () => {
  // Port and IP lists skip empty entries, as kumactl does (empty_entries_test.ts); UID
  // exclusions do not.
  const e = await rejection({
    flags: [
      flag(
        "--exclude-outbound-ports-for-uids",
        "redirect.outbound.excludePortsForUIDs",
        "1000;;1001;;1002",
      ),
    ],
  });
  // One problem per list, not one per empty entry.
  assertEquals(e.errors.length, 1);
  assertEquals(
    e.message,
    "redirect.outbound.excludePortsForUIDs: 1000;;1001;;1002 from flag " +
      "--exclude-outbound-ports-for-uids has an empty entry (expected [proto:][ports:]uids " +
      "entries separated by ; (or , without port lists))",
  );
});

Deno.test("resolveConfig() accepts a list of exactly the limit, in every form", async () => {
  const ports = Array.from({ length: MAX_LIST_ITEMS }, (_, i) => 1000 + i);
  const file = `redirect:\n  inbound:\n    excludePorts: [${ports.join(",")}]\n`;
  const { config } = await resolveConfig(fakeInputs({
    ...oneFile(file),
    flags: [flag("--exclude-outbound-ports", "redirect.outbound.excludePorts", ports.join(","))],
  }));
  assertEquals(config.redirect.inbound.excludePorts.length, MAX_LIST_ITEMS);
  assertEquals(config.redirect.outbound.excludePorts.length, MAX_LIST_ITEMS);
});

Deno.test("resolveConfig() counts the entries inside list items against the limit", async () => {
  // 2 items, each holding more than half the limit as a comma string.
  const half = Array(MAX_LIST_ITEMS / 2 + 1).fill("10.0.0.1").join(",");
  const e = await rejection(
    oneFile(`redirect:\n  outbound:\n    excludePortsForIPs: ["${half}", "${half}"]\n`),
  );
  assertEquals(e.path, "redirect.outbound.excludePortsForIPs");
  assertStringIncludes(e.message, `has more entries than the limit of ${MAX_LIST_ITEMS}`);
});

Deno.test("resolveConfig() says how long a list over the limit is, without echoing it", async () => {
  const e = await rejection({
    env: { [`${E}REDIRECT_OUTBOUND_EXCLUDE_PORTS`]: Array(10_000).fill("443").join(",") },
  });
  assertEquals(
    e.message,
    `redirect.outbound.excludePorts: value from env ${E}REDIRECT_OUTBOUND_EXCLUDE_PORTS has ` +
      `10000 entries, more than the limit of ${MAX_LIST_ITEMS} (expected at most ${MAX_LIST_ITEMS} entries)`,
  );
});

Deno.test("resolveConfig() takes numbers and booleans as text from env and flags only", async () => {
  const { config } = await resolveConfig(fakeInputs({
    ...oneFile("redirect:\n  dns:\n    port: 5353\n    enabled: true\nwait: 0\n"),
    env: { [`${E}REDIRECT_INBOUND_PORT`]: "25006", [`${E}VERBOSE`]: "true" },
    flags: [flag("--redirect-outbound-port", "redirect.outbound.port", "25001")],
  }));
  assertEquals(
    [config.redirect.dns.port, config.redirect.dns.enabled, config.wait],
    [5353, true, 0],
  );
  assertEquals([config.redirect.inbound.port, config.verbose], [25006, true]);
  assertEquals(config.redirect.outbound.port, 25001);
  // A quoted string in a port *list* stays fine, as in kumactl.
  const list = await resolveConfig(fakeInputs({
    ...oneFile("redirect:\n  inbound:\n    excludePorts: ['22', '80,443']\n"),
  }));
  assertEquals(list.config.redirect.inbound.excludePorts, [22, 80, 443]);
});

Deno.test("resolveConfig() says a quoted number in a file is a string", async () => {
  const e = await rejection({
    ...oneFile('redirect:\n  inbound:\n    port: "15006"\n'),
  });
  assertEquals(
    e.message,
    "redirect.inbound.port: 15006 from /tp.yaml:3:11 is a string in quotes, not a number " +
      "(expected a number without quotes; only env vars and flags take text)",
  );
});

Deno.test("resolveConfig() reports a source the reader refused, naming --config", async () => {
  const inputs = fakeInputs({ configSources: ["/dev/zero", "-"] });
  inputs.readFile = (path) =>
    Promise.reject(
      new BoundedReadError(
        "not_regular",
        path,
        "is not a regular file but a character device",
        "a regular file of at most 1 MiB",
      ),
    );
  inputs.readStdin = () =>
    Promise.reject(
      new BoundedReadError(
        "too_large",
        "stdin",
        "is more than the limit of 1 MiB",
        "at most 1 MiB",
      ),
    );
  const e = await assertRejects(() => resolveConfig(inputs), ConfigError);
  assertEquals(e.errors.map((p) => [p.code, p.source]), [
    ["unreadable_source", "file:/dev/zero"],
    ["unreadable_source", "stdin"],
  ]);
  assertEquals(
    e.message.split("\n"),
    [
      "/dev/zero: --config source is not a regular file but a character device " +
      "(expected a regular file of at most 1 MiB, or - for stdin)",
      "stdin: --config source is more than the limit of 1 MiB (expected at most 1 MiB)",
    ],
  );
});

Deno.test("splitConfigSources() keeps inline YAML whole and splits paths at commas", () => {
  assertEquals(splitConfigSources(["a.yaml,b.yaml", "-"]), ["a.yaml", "b.yaml", "-"]);
  assertEquals(splitConfigSources(["{ kumaDPUser: x, verbose: true }"]), [
    "{ kumaDPUser: x, verbose: true }",
  ]);
  assertEquals(splitConfigSources(["kumaDPUser: x\nverbose: true"]), [
    "kumaDPUser: x\nverbose: true",
  ]);
});

Deno.test("resolveConfig() reads a file whose name only looks like YAML", async () => {
  const { config } = await resolveConfig(fakeInputs(oneFile("verbose: true\n", "[prod].yaml")));
  assertEquals(config.verbose, true);
});

Deno.test("resolveConfig() shows the first problems of a huge document, and counts the rest", async () => {
  const keys = Array.from({ length: 20_000 }, (_, i) => `k${i}: 1\n`).join("");
  const e = await rejection(oneFile(keys));
  assertEquals(e.errors.length, 20_000);
  const lines = e.message.split("\n");
  assertEquals(lines.length, MAX_SHOWN_PROBLEMS + 1);
  assertEquals(lines.at(-1), `(and ${20_000 - MAX_SHOWN_PROBLEMS} more problems)`);
});

Deno.test("resolveConfig() refuses a repeated key, in YAML and JSON", async () => {
  for (const text of ["verbose: true\nverbose: false\n", '{"verbose": true, "verbose": false}']) {
    const e = await rejection(oneFile(text));
    assertEquals(e.code, "parse_error");
    assertStringIncludes(e.message, "the key verbose is repeated");
  }
});

Deno.test("showValue() cuts a long value short", () => {
  const shown = showValue("9".repeat(100_000));
  assert(shown.length < 200, shown);
  assert(shown.endsWith("... (100000 characters)"), shown);
  assertEquals(showValue("docker0:172.17.0.0/16"), "docker0:172.17.0.0/16");
});
