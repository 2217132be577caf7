/**
 * YAML that kumactl's loader (sigs.k8s.io/yaml over Go's yaml) accepts,
 * through the whole CLI: aliases of mappings and merge keys (`<<`), with
 * the origin of each value where its text is, and the alias limits.
 */
import { assertEquals, assertStringIncludes } from "../../assert.ts";
import { cli } from "../../../src/cli/cli.ts";
import { EXIT } from "../../../src/ops/exit_codes.ts";
import { memoryHost } from "./_memory_host.ts";

/** `config --explain` of one file: exit code, the explained lines by path, stderr. */
async function explain(text: string) {
  const h = await memoryHost({ files: { "/tp.yaml": text } });
  const code = await cli(["config", "--config", "/tp.yaml", "--explain"], h.io);
  const lines = new Map(
    h.out().split("\n").filter((l) => l.includes(": ")).map((l) => {
      const i = l.indexOf(": ");
      return [l.slice(0, i), l.slice(i + 2)];
    }),
  );
  return { code, lines, err: h.err() };
}

Deno.test("cli() config reads an alias of a mapping, with the anchored text's origin", async () => {
  const r = await explain("redirect: {inbound: &in {excludePorts: [22]}, outbound: *in}\n");
  assertEquals(r.err, "");
  assertEquals(r.code, EXIT.OK);
  assertEquals(r.lines.get("redirect.inbound.excludePorts"), "[22]  (file:/tp.yaml:1:40)");
  assertEquals(r.lines.get("redirect.outbound.excludePorts"), "[22]  (file:/tp.yaml:1:40)");
});

Deno.test("cli() config reads a merge key: the mapping's own keys win over merged ones", async () => {
  const r = await explain(
    "redirect:\n" +
      "  inbound: &base\n" +
      "    excludePorts: [22, 80]\n" +
      "    port: 15006\n" +
      "  outbound:\n" +
      "    port: 15001\n" +
      "    <<: *base\n",
  );
  assertEquals(r.err, "");
  assertEquals(r.code, EXIT.OK);
  assertEquals(r.lines.get("redirect.outbound.port"), "15001  (file:/tp.yaml:6:11)");
  assertEquals(r.lines.get("redirect.outbound.excludePorts"), "[22, 80]  (file:/tp.yaml:3:19)");
});

Deno.test("cli() config merges a list of mappings: the first that sets a key wins, merges nest", async () => {
  const r = await explain(
    "redirect:\n" +
      "  inbound: &a {port: 1001, excludePorts: [1]}\n" +
      "  dns: &b {port: 1002, enabled: true}\n" +
      "  outbound: {<<: *b, excludePorts: [3]}\n",
  );
  assertEquals(r.code, EXIT.OK, r.err);
  // outbound took dns's port through its own merge; enabled is a leaf of outbound too.
  assertEquals(r.lines.get("redirect.outbound.port"), "1002  (file:/tp.yaml:3:18)");
  assertEquals(r.lines.get("redirect.outbound.enabled"), "true  (file:/tp.yaml:3:33)");
  assertEquals(r.lines.get("redirect.outbound.excludePorts"), "[3]  (file:/tp.yaml:4:36)");

  const list = await explain(
    "redirect:\n" +
      "  inbound: &a {port: 1001, excludePorts: [1]}\n" +
      "  dns: &b {port: 1002}\n" +
      "  outbound: {<<: [*b, *a]}\n",
  );
  assertEquals(list.code, EXIT.OK, list.err);
  assertEquals(list.lines.get("redirect.outbound.port"), "1002  (file:/tp.yaml:3:18)");
  assertEquals(list.lines.get("redirect.outbound.excludePorts"), "[1]  (file:/tp.yaml:2:42)");
});

Deno.test("cli() config refuses a bad merge, a repeated one and a quoted << as YAML errors, exit 2", async () => {
  const cases: [string, string][] = [
    [
      "redirect:\n  outbound:\n    <<: [1, 2]\n",
      "kuma-tproxy: /tp.yaml:3:10: is not valid YAML or JSON: " +
      "a merge key << takes a mapping or a list of mappings",
    ],
    [
      "redirect:\n  inbound: &a {port: 1}\n  outbound: {<<: *a, <<: *a}\n",
      "kuma-tproxy: /tp.yaml:3:22: is not valid YAML or JSON: " +
      "the merge key << is repeated (map keys must be unique)",
    ],
    // Quoted, it is a key like any other, as in Go's yaml.
    ["'<<': {verbose: true}\n", "kuma-tproxy: <<: key from /tp.yaml:1:1 is not a known setting"],
  ];
  for (const [text, line] of cases) {
    const r = await explain(text);
    assertEquals(r.code, EXIT.USAGE, text);
    assertStringIncludes(r.err, line, text);
    assertEquals(r.lines.size, 0, text);
  }
});

Deno.test("cli() config stops following aliases of mappings past the limit, exit 2", async () => {
  // dns merges outbound ten times, which merges inbound ten times: 110 aliases followed.
  const ten = (anchor: string) => `{<<: [${Array(10).fill(`*${anchor}`).join(", ")}]}`;
  const bomb = "redirect:\n" +
    "  inbound: &m0 {port: 1}\n" +
    `  outbound: &m1 ${ten("m0")}\n` +
    `  dns: ${ten("m1")}\n`;
  const r = await explain(bomb);
  assertEquals(r.code, EXIT.USAGE);
  assertStringIncludes(r.err, "is not valid YAML or JSON: more than 100 aliases of mappings");
  // Ten times ten is within the limit.
  const fine = await explain(bomb.replace(/ {2}dns: .*\n/, ""));
  assertEquals(fine.code, EXIT.OK, fine.err);
  assertEquals(fine.lines.get("redirect.outbound.port"), "1  (file:/tp.yaml:2:23)");
});
