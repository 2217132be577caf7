/**
 * Empty list entries (issue 21 item 8): kumactl skips them in port lists
 * (kuma pkg/transparentproxy/config/config.go `Ports.append`, which every
 * source reaches: flags, env vars through envconfig's Setter, and JSON/YAML
 * lists joined with commas) and in comma-separated IP entries
 * (utils.go `parseCommaSeparatedStrings`). So do we, from every source.
 * Where kumactl does not skip them (an empty UID exclusion makes it return
 * all outbound traffic unredirected; an empty vnet is an error there), they
 * stay errors.
 */
import { assertEquals, assertStringIncludes } from "../../assert.ts";
import { cli } from "../../../src/cli/cli.ts";
import { EXIT } from "../../../src/ops/exit_codes.ts";
import { memoryHost } from "./_memory_host.ts";

/** `kuma-tproxy config` for the given arguments and files: exit code, YAML, stderr. */
async function config(
  args: string[],
  options: { files?: Record<string, string>; env?: Record<string, string> } = {},
) {
  const h = await memoryHost({ uid: 1000, ...options });
  const code = await cli(["config", ...args], h.io);
  return { code, out: h.out(), err: h.err() };
}

const list = (name: string, items: (string | number)[]) =>
  items.length === 0
    ? `    ${name}: []\n`
    : `    ${name}:\n${items.map((i) => `      - ${i}\n`).join("")}`;

Deno.test("empty port entries are skipped from flags, env vars and files", async () => {
  const cases: [string, Parameters<typeof config>][] = [
    ["flag 22,", [["--exclude-inbound-ports", "22,"]]],
    ["flag 22,,23", [["--exclude-inbound-ports", "22,,23"]]],
    ["flag ,22, ,23,", [["--exclude-inbound-ports", ",22, ,23,"]]],
    ["env 22,,23", [[], {
      env: { KUMA_TRANSPARENT_PROXY_REDIRECT_INBOUND_EXCLUDE_PORTS: "22,,23" },
    }]],
    [
      'YAML [22, ""]',
      [["--config", "/tp.yaml"], {
        files: { "/tp.yaml": 'redirect:\n  inbound:\n    excludePorts: [22, "", "23,", " "]\n' },
      }],
    ],
  ];
  for (const [name, [args, options]] of cases) {
    const r = await config(args, options);
    assertEquals([r.code, r.err], [EXIT.OK, ""], name);
    const want = name.includes("23") || name.includes("YAML") ? [22, 23] : [22];
    assertStringIncludes(r.out, list("excludePorts", want), name);
  }
  // Include lists and outbound ports too.
  const r = await config([
    "--include-inbound-ports",
    "80,,",
    "--exclude-outbound-ports",
    ",443",
    "--include-outbound-ports",
    "8080,",
  ]);
  assertEquals(r.code, EXIT.OK, r.err);
  assertStringIncludes(r.out, list("includePorts", [80]));
  assertStringIncludes(r.out, list("excludePorts", [443]));
  assertStringIncludes(r.out, list("includePorts", [8080]));
});

Deno.test("empty IP entries are skipped from flags, env vars and files", async () => {
  for (
    const [args, options] of [
      [["--exclude-outbound-ips", "10.0.0.1,,10.0.0.2"]],
      [["--exclude-outbound-ips", "10.0.0.1,", "--exclude-outbound-ips", ",10.0.0.2"]],
      [[
        "--exclude-outbound-ips",
        "10.0.0.1",
        "--exclude-outbound-ips",
        "",
        "--exclude-outbound-ips",
        "10.0.0.2",
      ]],
      [[], {
        env: {
          KUMA_TRANSPARENT_PROXY_REDIRECT_OUTBOUND_EXCLUDE_PORTS_FOR_IPS: "10.0.0.1,,10.0.0.2,",
        },
      }],
      [["--config", "/tp.yaml"], {
        files: {
          "/tp.yaml":
            'redirect:\n  outbound:\n    excludePortsForIPs: ["10.0.0.1,,", "", "10.0.0.2"]\n',
        },
      }],
    ] as Parameters<typeof config>[]
  ) {
    const r = await config(args, options);
    assertEquals([r.code, r.err], [EXIT.OK, ""], JSON.stringify([args, options]));
    assertStringIncludes(r.out, list("excludePortsForIPs", ["10.0.0.1", "10.0.0.2"]));
  }
  const inbound = await config(["--exclude-inbound-ips", ",10.0.0.3,,"]);
  assertEquals(inbound.code, EXIT.OK, inbound.err);
  assertStringIncludes(inbound.out, list("excludePortsForIPs", ["10.0.0.3"]));
});

Deno.test("empty UID exclusions and vnets stay errors: kumactl does not skip them", async () => {
  for (
    const [args, path] of [
      [
        ["--exclude-outbound-ports-for-uids", "1000;;1001"],
        "redirect.outbound.excludePortsForUIDs",
      ],
      [["--vnet", "docker0:172.17.0.0/16,"], "redirect.vnet.networks"],
    ] as const
  ) {
    const r = await config([...args]);
    assertEquals(r.code, EXIT.USAGE, r.out);
    assertStringIncludes(r.err, `kuma-tproxy: ${path}: `);
    assertStringIncludes(r.err, "has an empty entry");
  }
});
