/**
 * The fast path (src/cli/fast_argv.ts) against the reference: for every
 * command line it takes, the parsed command line must be exactly the one the
 * real commander program (program.ts, with config_flags.ts and the pflag
 * override) hands to the dispatch. The corpus is generated from CONFIG_FLAGS
 * and NO_OP_FLAGS, so a new flag is covered without touching this file.
 */
import { CommanderError } from "commander";
import { assert, assertEquals } from "../../assert.ts";
import type { CommandLine } from "../../../src/cli/command_line.ts";
import { parseFastArgv } from "../../../src/cli/fast_argv.ts";
import { buildProgram } from "../../../src/cli/program.ts";
import type { CliIo } from "../../../src/cli/io.ts";
import { CONFIG_FLAGS, type FlagSpec, NO_OP_FLAGS } from "../../../src/config/flags.ts";
import { cli } from "../../../src/cli/cli.ts";
import { memoryHost } from "./_memory_host.ts";

const COMMANDS = ["install", "uninstall", "status", "config"] as const;
type Command = typeof COMMANDS[number];
const TARGET = "transparent-proxy";

/** What commander hands to the dispatch for `argv`, or null when it does not get there. */
async function viaCommander(argv: string[]): Promise<CommandLine | null> {
  let line: CommandLine | null = null;
  const io = { out: () => {}, err: () => {}, env: {} } as unknown as CliIo;
  const program = buildProgram(io, { code: 0 }, (l) => {
    line = l;
    return Promise.resolve(0);
  });
  try {
    await program.parseAsync(argv, { from: "user" });
  } catch (e) {
    if (e instanceof CommanderError) return null;
    throw e;
  }
  return line;
}

function spellings(spec: FlagSpec): string[] {
  return [spec.flag, ...(spec.aliases ?? [])];
}

/** Each config flag once, with a value where it takes one. */
function everyFlag(value: (spec: FlagSpec) => string): string[] {
  return CONFIG_FLAGS.flatMap((s) => s.kind === "boolean" ? [s.flag] : [s.flag, value(s)]);
}

/** Command lines of `command` the fast path must take. */
function accepted(command: Command): string[][] {
  const target = command === "config" ? [] : [TARGET];
  const lines: string[][] = [[], target, [...target, "--dry-run"], ["--dry-run", ...target]];
  for (const spec of CONFIG_FLAGS) {
    for (const f of spellings(spec)) {
      if (spec.kind === "boolean") {
        lines.push(
          [f],
          [`${f}=true`],
          [`${f}=false`],
          [`${f}=0`],
          [`${f}=`],
          [`${f}=no=way`],
          [`${f}=-V`],
          [`${f}=false`, f],
          [f, `${f}=false`],
          [f, ...target],
          [...target, `${f}=false`],
        );
      } else {
        lines.push(
          [f, "v1"],
          [`${f}=v1`],
          [`${f}=`],
          [f, ""],
          [f, "-"],
          [`${f}=-1`],
          [`${f}=--help`],
          [`${f}=a=b`],
          [f, TARGET],
          [f, "install"],
          [f, "v1", `${f}=v2`],
          [f, "v1", "--dry-run", f, "v2", "--dry-run=false"],
          [...target, f, "v1"],
          [f, "v1", ...target],
        );
      }
    }
    const value = (v: string) => spec.kind === "boolean" ? [] : [v];
    for (const alias of spec.aliases ?? []) {
      lines.push(
        [spec.flag, ...value("a"), alias, ...value("b")],
        [alias, ...value("b"), spec.flag, ...value("a")],
        [spec.flag, ...value("a"), alias, ...value("b"), spec.flag, ...value("c")],
      );
    }
  }
  for (const n of NO_OP_FLAGS) {
    if (n.valueName) {
      lines.push([n.flag, "x"], [`${n.flag}=x`], [n.flag, "-"], [n.flag, "x", `${n.flag}=y`]);
    } else {
      lines.push([n.flag], [`${n.flag}=true`], [`${n.flag}=false`], [n.flag, ...target], [
        n.flag,
        n.flag,
      ]);
    }
  }
  const noOps = NO_OP_FLAGS.flatMap((n) => n.valueName ? [n.flag, "x"] : [n.flag]);
  const noOpsReversed = [...NO_OP_FLAGS].reverse().flatMap((n) =>
    n.valueName ? [`${n.flag}=y`] : [`${n.flag}=false`]
  );
  lines.push(noOps, [...noOpsReversed, "--dry-run", ...noOps]);
  lines.push(
    ["--config", "a.yaml"],
    ["--config=a.yaml"],
    ["--config", "-"],
    ["--config=-"],
    ["--config="],
    ["--config-file", "b.yaml"],
    ["--config-file=-"],
    ["--config", "a.yaml,b.json"],
    ["--config", "a", "--config-file=b", "--dry-run", "--config", "-", ...target],
  );
  const all = everyFlag((s) => s.valueName ?? "v");
  const reversed = [...CONFIG_FLAGS].reverse().flatMap((s) =>
    s.kind === "boolean" ? [`${s.flag}=false`] : [`${s.flag}=x`]
  );
  lines.push(all, reversed, [...target, ...all, ...noOps], [...all, ...reversed, ...target]);
  if (command !== "config") {
    lines.push(
      ["--json"],
      ["--json", "--json"],
      ["--json", ...target],
      [...target, "--json"],
      ["--config", "a.yaml", "--json", "--kuma-dp-user", "kuma-dp"],
      [...all, "--json"],
    );
  }
  if (command === "config") {
    lines.push(
      ["--explain"],
      ["--explain", "--explain"],
      ["--explain", "--redirect-dns"],
      ["--config", "-", "--explain", "--redirect-dns-port=53"],
      [...all, "--explain"],
    );
  }
  return lines.map((l) => [command, ...l]);
}

/** Command lines the fast path must leave to commander: help, errors, anything doubtful. */
function declined(): string[][] {
  const lines: string[][] = [
    [],
    ["--help"],
    ["-h"],
    ["--version"],
    ["-V"],
    ["help"],
    ["help", "install"],
    ["completion", "bash"],
    ["completion"],
    ["instal"],
    ["--dry-run", "install"],
    [TARGET],
    ["Install"],
  ];
  for (const command of COMMANDS) {
    const words = [
      ["--help"],
      ["-h"],
      ["-V"],
      ["--version"],
      ["--dry-run", "-h"],
      ["--dry-run", "--help"],
      ["--dry-run", "--version"],
      ["--dry-run", "-Vh"],
      ["--"],
      ["--dry-run", "--", TARGET],
      ["--no-redirect-dns"],
      ["--dry-runn"],
      ["--Dry-run"],
      ["--dry-run", "-x"],
      ["-"],
      ["foo"],
      [""],
      [TARGET, TARGET],
      [TARGET, "x"],
      ["--json=true"],
      ["--explain=true"],
      ["--config"],
      ["--config", "-x"],
      ["--config", "--dry-run"],
      ["--config-file"],
      ["--kuma-dp-user", "--dry-run"],
      ["--kuma-dp-user", "-V"],
      ["--kuma-dp-user", "-1"],
      ["--=x"],
      ["--="],
      ["---dry-run"],
      ["-dry-run"],
      ["--redirect-dns-upstream-target-chain"],
      ["--help=false"],
      ["--version=1"],
    ];
    for (const spec of CONFIG_FLAGS) {
      if (spec.kind === "boolean") continue;
      for (const f of spellings(spec)) {
        words.push([f], [f, "-h"], [f, "--dry-run"], ["--dry-run", f]);
      }
    }
    if (command === "config") words.push(["--json"]);
    if (command !== "config") words.push(["--explain"]);
    if (command === "config") words.push([TARGET], ["x"], ["--dry-run", TARGET]);
    lines.push(...words.map((w) => [command, ...w]));
  }
  return lines;
}

Deno.test("parseFastArgv() takes every form of every config flag, exactly as commander parses it", async () => {
  let count = 0;
  for (const command of COMMANDS) {
    for (const argv of accepted(command)) {
      const fast = parseFastArgv(argv);
      assert(fast !== null, `the fast path declined ${JSON.stringify(argv)}`);
      assertEquals(fast, await viaCommander(argv), JSON.stringify(argv));
      count++;
    }
  }
  // Not an empty corpus: every spelling of every flag, in several forms, per command.
  const spellingCount = CONFIG_FLAGS.reduce((n, s) => n + spellings(s).length, 0);
  assert(count > COMMANDS.length * spellingCount * 5, `only ${count} command lines`);
});

Deno.test("parseFastArgv() leaves help, --version, errors and anything doubtful to commander", () => {
  for (const argv of declined()) {
    assertEquals(parseFastArgv(argv), null, JSON.stringify(argv));
  }
});

Deno.test("parseFastArgv() keeps the order and repeats of flags and sources as commander does", async () => {
  const argv = [
    "install",
    "--exclude-inbound-ips",
    "10.0.0.1",
    "--kuma-dp-user",
    "a",
    "--config",
    "x.yaml",
    "--redirect-dns=false",
    "--exclude-inbound-ips=::1",
    "--kuma-dp-uid",
    "7",
    "--redirect-dns",
    "--config-file=-",
    "--experimental-transparent-proxy-engine",
    TARGET,
  ];
  const fast = parseFastArgv(argv);
  assertEquals(fast, {
    command: "install",
    target: TARGET,
    json: false,
    configSources: ["x.yaml", "-"],
    flags: [
      { flag: "--kuma-dp-user", path: "kumaDPUser", raw: "a" },
      {
        flag: "--exclude-inbound-ips",
        path: "redirect.inbound.excludePortsForIPs",
        raw: ["10.0.0.1", "::1"],
      },
      { flag: "--kuma-dp-uid", path: "kumaDPUser", raw: "7" },
      { flag: "--redirect-dns", path: "redirect.dns.enabled", raw: true },
    ],
    notes: [
      `--experimental-transparent-proxy-engine is accepted for compatibility and ${
        NO_OP_FLAGS[0].note
      }`,
    ],
  });
  assertEquals(fast, await viaCommander(argv));
});

// A trailing `--` changes nothing for commander but sends the command line
// down the commander path, so cli() can run one command line both ways.
Deno.test("cli() runs a command line alike on the fast path and through commander", async () => {
  const ipv4 = ["--ip-family-mode", "ipv4"];
  const cases: [string[], { uid?: number; files?: Record<string, string>; stdin?: string }][] = [
    [["install", ...ipv4], {}],
    [["install", TARGET, "--dry-run", "--verbose=true", ...ipv4], { uid: 1000 }],
    [["install", "--experimental-transparent-proxy-engine", "--dry-run", ...ipv4], {}],
    [["install", "bad-target"], {}],
    [["install"], { uid: 1000 }],
    [["install", "--config", "a.yaml", "--config-file=-", "--dry-run"], {
      files: { "a.yaml": "redirect:\n  dns:\n    enabled: true\n" },
      stdin: "ipFamilyMode: ipv4\n",
    }],
    [["uninstall", TARGET], {}],
    [["uninstall", "--config", "-"], { stdin: "unknownKey: 1\n" }],
    [["status", "--json", ...ipv4], {}],
    [["status", ...ipv4, TARGET], {}],
    [["config", "--explain", "--redirect-dns-port", "8888"], {}],
    [["config", "--redirect-dns-port", "70000"], {}],
    [["config", "--redirect-inbound=nope"], {}],
  ];
  for (const [argv, host] of cases) {
    const slow = [...argv, "--"];
    assert(parseFastArgv(slow) === null, JSON.stringify(slow));
    const viaFast = await memoryHost(host);
    const viaCommander = await memoryHost(host);
    const fastCode = await cli(argv, viaFast.io);
    const slowCode = await cli(slow, viaCommander.io);
    const seen = (h: typeof viaFast, code: number) => ({
      code,
      out: h.out(),
      err: h.err(),
      calls: h.runner.calls,
    });
    assertEquals(seen(viaFast, fastCode), seen(viaCommander, slowCode), JSON.stringify(argv));
  }
});

/** A small seeded generator, so a failure names a command line that reproduces. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

Deno.test("parseFastArgv() agrees with commander on random command lines whenever it takes one", async () => {
  const words = [
    ...CONFIG_FLAGS.flatMap((s) => spellings(s).flatMap((f) => [f, `${f}=false`, `${f}=1`])),
    ...NO_OP_FLAGS.flatMap((n) => [n.flag, `${n.flag}=x`]),
    "--config",
    "--config-file=-",
    "--json",
    "--explain",
    TARGET,
    TARGET,
    "x",
    "-",
    "",
    "--",
    "-h",
    "--help",
    "-V",
    "--version",
    "-1",
    "--no-redirect-dns",
    "--json=true",
  ];
  const commands = [...COMMANDS, ...COMMANDS, "completion", "help", "x", "--dry-run"];
  const next = random(11);
  const pick = <T>(list: readonly T[]) => list[Math.floor(next() * list.length)];
  let taken = 0;
  for (let n = 0; n < 1500; n++) {
    const argv = [
      pick(commands),
      ...Array.from({ length: Math.floor(next() * 6) }, () => pick(words)),
    ];
    const fast = parseFastArgv(argv);
    if (fast === null) continue;
    taken++;
    assertEquals(fast, await viaCommander(argv), JSON.stringify(argv));
  }
  assert(taken > 200, `the fast path took only ${taken} random command lines`);
});

Deno.test("cli.ts does not load commander statically: only the fallback imports it", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", new URL("../../../src/cli/cli.ts", import.meta.url).pathname],
    stdout: "piped",
  }).output();
  assert(out.success, "deno info failed");
  const graph = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    roots: string[];
    modules: {
      specifier: string;
      dependencies?: { code?: { specifier: string }; isDynamic?: boolean }[];
    }[];
    redirects: Record<string, string>;
  };
  const modules = new Map(graph.modules.map((m) => [m.specifier, m]));
  const loaded = new Set<string>();
  const visit = (specifier: string) => {
    const resolved = graph.redirects[specifier] ?? specifier;
    if (loaded.has(resolved)) return;
    loaded.add(resolved);
    for (const dep of modules.get(resolved)?.dependencies ?? []) {
      if (dep.code && !dep.isDynamic) visit(dep.code.specifier);
    }
  };
  graph.roots.forEach(visit);
  const npm = [...loaded].filter((s) => s.startsWith("npm:"));
  assert(loaded.size > 5, "the walk saw too few modules");
  assertEquals(npm.filter((s) => s.includes("commander")), []);
  // The fallback does reach it.
  assert(
    [...modules.keys()].some((s) => s.includes("commander")),
    "commander is not in the graph at all",
  );
});
