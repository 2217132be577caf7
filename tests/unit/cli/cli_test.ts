import { assert, assertEquals, assertMatch, assertStringIncludes } from "../../assert.ts";
import { cli } from "../../../src/cli/cli.ts";
import { EXIT, EXIT_MEANINGS } from "../../../src/ops/exit_codes.ts";
import type { CliIo } from "../../../src/cli/io.ts";
import { VERSION } from "../../../src/version.ts";
import { DRIFTED, memoryHost } from "./_memory_host.ts";

/** Runs the CLI with only the streams: enough for errors that commander finds. */
async function run(argv: string[]) {
  let out = "";
  let err = "";
  const io = {
    out: (t: string) => void (out += t),
    err: (t: string) => void (err += t),
    env: {},
  } as unknown as CliIo;
  return { code: await cli(argv, io), out, err };
}

Deno.test("cli() puts commander's errors in the one kuma-tproxy: format, exit 2", async () => {
  const cases: [string[], string][] = [
    [
      ["install", "--dry-runn"],
      "kuma-tproxy: unknown option '--dry-runn' (did you mean --dry-run?); run with --help for usage",
    ],
    [
      ["install", "--cni-mode"],
      "kuma-tproxy: unknown option '--cni-mode'; run with --help for usage",
    ],
    [
      ["status", "--redirect-dns-port"],
      "kuma-tproxy: option '--redirect-dns-port <port>' argument missing; run with --help for usage",
    ],
    [
      ["instal"],
      "kuma-tproxy: unknown command 'instal' (did you mean install?); run with --help for usage",
    ],
    [
      ["completion"],
      "kuma-tproxy: missing required argument 'shell'; run with --help for usage",
    ],
    [
      ["install", "a", "b"],
      "kuma-tproxy: too many arguments for 'install'. Expected 1 argument but got 2; " +
      "run with --help for usage",
    ],
  ];
  for (const [argv, line] of cases) {
    assertEquals(await run(argv), { code: 2, out: "", err: `${line}\n` }, argv.join(" "));
  }
});

Deno.test("cli() without a command prints the help and says what is missing", async () => {
  const r = await run([]);
  assertEquals(r.code, 2);
  const lines = r.err.trimEnd().split("\n");
  assertEquals(lines[0], "Usage: kuma-tproxy [options] [command]");
  assertEquals(lines.at(-1), "kuma-tproxy: no command given (expected one of the commands above)");
});

const IPV4 = ["--ip-family-mode", "ipv4"];

/** raw and nat: two COMMITs, so even on nft the restore is not one transaction and is tested first. */
const TWO_TABLES = ["--redirect-dns"];

Deno.test("cli() install applies the rules with one --test pass first when they span two tables, exit 0", async () => {
  const h = await memoryHost();
  assertEquals(await cli(["install", ...IPV4, ...TWO_TABLES], h.io), EXIT.OK, h.err());
  assertMatch(h.out(), /^IPv4 \(nft\): installed \d+ rules and \d+ chains\n$/);
  assertEquals(h.restores().map((c) => c.args.join(" ")), ["--noflush --test", "--noflush"]);
  assertEquals(h.restores()[0].stdin, h.restores()[1].stdin);
  assertStringIncludes(h.restores()[1].stdin ?? "", "-N KUMA_MESH_OUTBOUND\n");
  assertStringIncludes(h.restores()[1].stdin ?? "", "*raw\n");
  assert(
    h.err().endsWith(
      "# transparent proxy installed; run kuma-dp with the transparent proxy enabled\n",
    ),
  );
});

Deno.test("cli() install applies one-table nft rules in one restore, without a --test pass, exit 0", async () => {
  const h = await memoryHost();
  assertEquals(await cli(["install", ...IPV4], h.io), EXIT.OK, h.err());
  assertEquals(h.out(), "IPv4 (nft): installed 11 rules and 4 chains\n");
  assertEquals(h.restores().map((c) => c.args.join(" ")), ["--noflush"]);
  assertStringIncludes(h.restores()[0].stdin ?? "", "-N KUMA_MESH_OUTBOUND\n");
  assert(
    h.err().endsWith(
      "# transparent proxy installed; run kuma-dp with the transparent proxy enabled\n",
    ),
  );
});

Deno.test("cli() install --dry-run as non-root prints the rules, changes nothing, exit 0", async () => {
  const h = await memoryHost({ uid: 1000 });
  assertEquals(await cli(["install", "--dry-run", ...IPV4], h.io), EXIT.OK, h.err());
  assertStringIncludes(h.out(), "-A KUMA_MESH_OUTBOUND");
  assertStringIncludes(
    h.err(),
    "# [WARNING] [dry-run] running as a non-root user: the iptables backend cannot be probed\n",
  );
  assertEquals(h.restores(), []);
});

Deno.test("cli() install, uninstall and status as non-root: one root error each, exit 1, nothing run", async () => {
  const cases: [string[], string][] = [
    [
      ["install"],
      "install needs root privileges; run it as root, or add --dry-run to only show what it would do",
    ],
    [
      ["uninstall"],
      "uninstall needs root privileges; run it as root, or add --dry-run to only show what it would do",
    ],
    [
      ["status"],
      "status needs root privileges: iptables-save cannot read the rules without CAP_NET_ADMIN; run it as root",
    ],
  ];
  for (const [argv, message] of cases) {
    const h = await memoryHost({ uid: 1000 });
    assertEquals(await cli(argv, h.io), EXIT.FAILURE, argv.join(" "));
    assertEquals([h.out(), h.err()], ["", `kuma-tproxy: ${message}\n`], argv.join(" "));
    assertEquals(h.runner.calls, [], argv.join(" "));
  }
});

Deno.test("cli() status: 4 when nothing is installed, 3 when ours differs from the config", async () => {
  const none = await memoryHost();
  assertEquals(await cli(["status", ...IPV4], none.io), EXIT.NOT_INSTALLED, none.err());
  assertEquals(none.out(), "IPv4: not installed (nft)\n");

  const drifted = await memoryHost({ save: DRIFTED });
  assertEquals(await cli(["status", ...IPV4], drifted.io), EXIT.DRIFT, drifted.err());
  assert(
    drifted.out().startsWith(
      "IPv4: installed (nft), differs from config (nat: 14 missing, 1 unexpected)\n",
    ),
    drifted.out(),
  );
  assertEquals(drifted.restores(), []);
});

Deno.test("cli() uninstall removes only our rule and chain, from every family, exit 0", async () => {
  const h = await memoryHost({ save: DRIFTED });
  assertEquals(await cli(["uninstall"], h.io), EXIT.OK, h.err());
  assertEquals(
    h.out(),
    "IPv4 (nft): removed 1 rule and 1 chain\nIPv6 (nft): removed 1 rule and 1 chain\n",
  );
  const removal = h.restores().map((c) => c.stdin ?? "");
  assertEquals(removal.length, 2);
  for (const text of removal) {
    assertStringIncludes(
      text,
      '-D PREROUTING -p tcp -m comment --comment "kuma/mesh/transparent/proxy/old" -j KUMA_MESH_INBOUND',
    );
    assertStringIncludes(text, "-X KUMA_MESH_INBOUND");
  }
  assertStringIncludes(h.err(), "# transparent proxy rules removed\n");
});

Deno.test("cli() config prints the resolved YAML; --explain names each source; a bad value exits 2", async () => {
  const h = await memoryHost({ uid: 1000 });
  assertEquals(await cli(["config", "--explain", "--redirect-dns-port", "8888"], h.io), EXIT.OK);
  assertStringIncludes(h.out(), "(flag:--redirect-dns-port)");
  assertEquals(h.runner.calls, []);

  const bad = await memoryHost();
  assertEquals(await cli(["config", "--redirect-dns-port", "70000"], bad.io), EXIT.USAGE);
  assertEquals([bad.out(), bad.err()], [
    "",
    "kuma-tproxy: redirect.dns.port: 70000 from flag --redirect-dns-port is not a port (expected 1-65535)\n",
  ]);
});

Deno.test("cli() --help lists every exit code of the one table", async () => {
  const h = await memoryHost({ uid: 1000 });
  assertEquals(await cli(["--help"], h.io), EXIT.OK);
  for (const { code, meaning } of EXIT_MEANINGS) {
    assertStringIncludes(h.out(), `  ${code}  ${meaning}\n`);
  }
  assertEquals(
    new Set(Object.values(EXIT)).size,
    Object.values(EXIT).length,
    "each outcome has its own code",
  );
});

// Moved from tests/integration/cli_errors_test.ts: they need no kernel.

Deno.test("cli() --help of every command shows examples", async () => {
  for (const command of ["install", "uninstall", "status", "config"]) {
    const h = await memoryHost();
    assertEquals(await cli([command, "--help"], h.io), EXIT.OK, `${command} --help: ${h.err()}`);
    assertStringIncludes(h.out(), `Usage: kuma-tproxy ${command}`);
    assertStringIncludes(h.out(), "Examples:");
    assertStringIncludes(h.out(), `kuma-tproxy ${command} `);
    assertEquals(h.err(), "");
    assertEquals(h.runner.calls, []);
  }
});

Deno.test("cli() install --help does not list the no-op flags", async () => {
  const h = await memoryHost();
  assertEquals(await cli(["install", "--help"], h.io), EXIT.OK, h.err());
  assertEquals(h.out().includes("experimental"), false, h.out());
});

Deno.test("cli() --version prints the version only", async () => {
  const h = await memoryHost();
  const code = await cli(["--version"], h.io);
  assertEquals({ code, stdout: h.out(), stderr: h.err() }, {
    code: 0,
    stdout: `${VERSION}\n`,
    stderr: "",
  });
});

Deno.test("cli() config --explain names the source of every value", async () => {
  const h = await memoryHost({
    files: { "/etc/kuma/base.yaml": "redirect:\n  dns:\n    port: 7777\n" },
    stdin: "redirect:\n  inbound:\n    port: 25006\n",
    env: { KUMA_TRANSPARENT_PROXY_REDIRECT_OUTBOUND_PORT: "25001" },
  });
  const code = await cli(
    ["config", "--explain", "--config", "/etc/kuma/base.yaml", "--config", "-", "--redirect-dns"],
    h.io,
  );
  assertEquals(code, 0, h.err());
  const line = (path: string) => h.out().split("\n").find((l) => l.startsWith(`${path}:`));
  assertEquals(
    line("redirect.dns.port"),
    "redirect.dns.port: 7777  (file:/etc/kuma/base.yaml:3:11)",
  );
  assertEquals(line("redirect.inbound.port"), "redirect.inbound.port: 25006  (stdin:3:11)");
  assertEquals(
    line("redirect.outbound.port"),
    "redirect.outbound.port: 25001  (env:KUMA_TRANSPARENT_PROXY_REDIRECT_OUTBOUND_PORT)",
  );
  assertEquals(line("redirect.dns.enabled"), "redirect.dns.enabled: true  (flag:--redirect-dns)");
  assertEquals(line("ipFamilyMode"), "ipFamilyMode: dualstack  (default)");
});

Deno.test("cli() install writes the --test lines after the applying line, as before the pretest", async () => {
  const h = await memoryHost();
  assertEquals(await cli(["install", ...IPV4, ...TWO_TABLES], h.io), EXIT.OK, h.err());
  const lines = h.err().split("\n");
  const applying = lines.findIndex((l) => l.startsWith("# applying the transparent proxy rules"));
  const tested = lines.findIndex((l) => /-restore --test \[1\//.test(l));
  const applied = lines.findIndex((l) => /-restore --noflush \[1\//.test(l));
  assert(applying >= 0 && applying < tested && tested < applied, h.err());
  assertEquals(h.restores().map((c) => c.args.join(" ")), ["--noflush --test", "--noflush"]);
});
