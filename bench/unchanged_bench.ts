/**
 * An unchanged re-install (issue 23 item 6) against `install --dry-run` of
 * the same config, as a ratio measured in the same run (bench/README.md):
 * both plan the rules and probe firewalld; the re-install also reads what
 * is installed (every backend's dumps, our nft table, `ss`) and compares,
 * and writes nothing. Target ≤ 1.3x.
 *
 * One throw-away dual-stack namespace per backend (iptables, nftables),
 * the default config installed once untimed; then rounds alternating the
 * re-install and the dry run, so drift hits both alike. Each timed
 * re-install must print "unchanged", or the benchmark fails. Both run in a
 * private mount namespace with a /run of its own: a real install takes the
 * host-wide run lock in /run (src/ops/run_lock.ts), which other runs on a
 * shared machine may hold, and the dry run takes none; the nft marker
 * (src/ops/nft_marker.ts) stays there too.
 *
 * Needs root and a user with UID 5678 (`useradd -u 5678 -U -M kuma-dp`).
 * Run: `bench/run.sh unchanged`. BENCH_RUNS sets the rounds (default 15,
 * after 2 warm-up rounds).
 *
 * @module
 */
import { MountNs } from "../tests/world/firewalld_host.ts";
import { inFreshNetns, median, startBench } from "./_netns.ts";

const root = new URL("..", import.meta.url).pathname;
const cli = `${root}scripts/kuma-tproxy`;
const runs = Number(Deno.env.get("BENCH_RUNS") ?? "15");
const WARMUP = 2;

const decoder = new TextDecoder();

/** A mount namespace whose /run is an empty tmpfs, with the machine's /run/netns moved into it. */
async function privateRun(): Promise<MountNs> {
  const mnt = await MountNs.create();
  try {
    await mnt.sh(`
      d=$(mktemp -d)
      mount --rbind /run/netns "$d"
      mount -t tmpfs -o mode=0755 tmpfs /run
      mkdir /run/netns
      mount --move "$d" /run/netns
      rmdir "$d"`);
    return mnt;
  } catch (e) {
    await mnt.destroy();
    throw e;
  }
}

/** Runs the CLI in `ns` and the private /run, timed; throws with stderr if it fails. */
async function timed(mnt: MountNs, ns: string, args: string[]) {
  const argv = [...mnt.argv, "ip", "netns", "exec", ns, cli, ...args];
  const start = performance.now();
  const out = await new Deno.Command(argv[0], {
    args: argv.slice(1),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const ms = performance.now() - start;
  if (!out.success) {
    throw new Error(`${args.join(" ")}: exited ${out.code}: ${decoder.decode(out.stderr).trim()}`);
  }
  return { ms, stdout: decoder.decode(out.stdout) };
}

async function measure(backend: string): Promise<{ unchangedMs: number; dryRunMs: number }> {
  const args = ["install", "--backend", backend];
  // The namespace first: a mount namespace sees the /run/netns entries made before it.
  return await inFreshNetns(async (netns) => {
    const mnt = await privateRun();
    try {
      return await rounds(mnt, netns.name, args);
    } finally {
      await mnt.destroy();
    }
  });
}

async function rounds(
  mnt: MountNs,
  ns: string,
  args: string[],
): Promise<{ unchangedMs: number; dryRunMs: number }> {
  await timed(mnt, ns, args);
  const unchangedTimes: number[] = [];
  const dryRunTimes: number[] = [];
  for (let i = 0; i < WARMUP + runs; i++) {
    const again = await timed(mnt, ns, args);
    if (!again.stdout.startsWith("unchanged: ")) {
      throw new Error(`the re-install changed something: ${again.stdout.trim()}`);
    }
    const dry = await timed(mnt, ns, [...args, "--dry-run"]);
    if (i < WARMUP) continue;
    unchangedTimes.push(again.ms);
    dryRunTimes.push(dry.ms);
  }
  return { unchangedMs: median(unchangedTimes), dryRunMs: median(dryRunTimes) };
}

const stopBench = await startBench("unchanged");
try {
  let failed = false;
  for (const backend of ["iptables", "nftables"]) {
    try {
      const f = await measure(backend);
      console.log(
        `re-install unchanged, --backend ${backend}, default config: ` +
          `${(f.unchangedMs / f.dryRunMs).toFixed(2)}x install --dry-run of the same config` +
          ` (median ${f.unchangedMs.toFixed(0)} ms vs ${f.dryRunMs.toFixed(0)} ms, IPv4+IPv6,` +
          ` n=${runs}; target 1.3x)`,
      );
    } catch (e) {
      failed = true;
      console.log(
        `re-install unchanged, --backend ${backend}: not measured: ${(e as Error).message}`,
      );
    }
  }
  if (failed) Deno.exitCode = 1;
} finally {
  await stopBench();
}
