/**
 * The floor under our stack: a stand-in for `kuma-tproxy install` that does
 * only what any Deno program doing the same job must do, and nothing else
 * (bench/floor_bench.ts times it). It starts Deno, loads zod and parses one
 * value with it (the decided schema library; left out with `no-zod`), then
 * makes the reads an install cannot do without, all at once, none waiting
 * for another: printenv (misspelt KUMA_* variables), the interface list, the
 * plain saves of both backends and both families (kumactl's backend choice,
 * earlier installations), the module probe, and for a real install `ss`
 * (lockout warnings) and our nft table. Then a dry run prints the rule text
 * it was given, and an install applies it with one restore per family and
 * adds ::6 to lo. No config sources, no rule building, no lock, no checks,
 * no rollback: our CLI does all of those on top.
 *
 * Usage: floor_cli.ts dry-run|install V4_RULES_FILE V6_RULES_FILE [no-zod]
 *
 * @module
 */
const [mode, v4File, v6File, zod] = Deno.args;
if (mode !== "dry-run" && mode !== "install") {
  console.error("usage: floor_cli.ts dry-run|install V4_RULES_FILE V6_RULES_FILE [no-zod]");
  Deno.exit(2);
}
if (zod !== "no-zod") {
  const { z } = await import("zod");
  z.object({ dryRun: z.boolean() }).parse({ dryRun: mode === "dry-run" });
}

async function run(cmd: string, args: string[], stdin?: string): Promise<string> {
  const child = new Deno.Command(cmd, {
    args,
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(stdin));
    await w.close();
  }
  const out = await child.output();
  // A read may fail (no legacy tables, say); a restore must not.
  if (!out.success && stdin !== undefined) {
    throw new Error(`${cmd} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  return new TextDecoder().decode(out.stdout);
}

const MODULES = ["comment", "conntrack", "owner", "multiport", "tcp", "udp"];
const reads: [string, string[]][] = [
  ["printenv", ["-0"]],
  ["ip", ["-o", "link", "show"]],
  ["iptables-nft-save", []],
  ["iptables-legacy-save", []],
  ["ip6tables-nft-save", []],
  ["ip6tables-legacy-save", []],
  ["iptables-nft", [...MODULES.flatMap((m) => ["-m", m]), "-h"]],
];
if (mode === "install") {
  reads.push(["ss", ["-H", "-l", "-t", "-n"]], ["nft", ["-j", "list", "tables", "inet"]]);
}
await Promise.all(reads.map(([cmd, args]) => run(cmd, args)));

const [v4, v6] = await Promise.all([Deno.readTextFile(v4File), Deno.readTextFile(v6File)]);
if (mode === "dry-run") {
  console.log(`### IPv4 ###\n\n${v4}\n### IPv6 ###\n\n${v6}`);
} else {
  await run("iptables-nft-restore", ["--noflush"], v4);
  await run("ip6tables-nft-restore", ["--noflush"], v6);
  await run("ip", ["-6", "addr", "add", "::6/128", "dev", "lo"]);
}
