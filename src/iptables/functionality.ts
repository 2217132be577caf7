/**
 * What a backend can do (kumactl `Functionality`): which match modules and
 * tables exist, and whether Docker's DOCKER_OUTPUT chain is present.
 */
import type { Functionality } from "../rules/facts.ts";
import { ExecutablesError } from "./errors.ts";
import { type Executables, readDump } from "./executables.ts";
import type { Runner } from "../os/runner.ts";
import type { TableName } from "../rules/model.ts";
import { hasChain, parseSave, type SaveDump } from "./save_parser.ts";

const MODULES = ["comment", "conntrack", "owner", "multiport", "tcp", "udp"] as const;
const TABLES: readonly TableName[] = ["nat", "raw", "mangle"];

/** Options of {@linkcode probeFunctionality}. */
export interface ProbeOptions {
  /**
   * The tables to probe; the others read as absent. Default all three. nat
   * is always probed: it is the minimum, and it shows DOCKER_OUTPUT.
   */
  tables?: readonly TableName[];
  /**
   * Module answers already known for the same binary (the other family's
   * `iptables` resolving to the same file): each probed match is a libxt_*
   * extension, shared by both families, and `-h` asks only userspace, so
   * the answer cannot differ. Skips the module probes.
   */
  modules?: Functionality["modules"];
  /**
   * nft only: reads the plain dump that stands in for the table probes
   * ({@linkcode readDump} by default; src/iptables/dumps.ts shares it).
   */
  readDump?: () => Promise<SaveDump>;
}

async function succeeds(runner: Runner, cmd: string, args: string[]): Promise<string | undefined> {
  try {
    const r = await runner.run(cmd, args);
    return r.code === 0 ? r.stdout : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Probes modules with `<iptables> -m <module> -h` and, on legacy, tables with
 * `<save> -t <table>`, as kumactl does. On legacy, `-t` instantiates the
 * table in the network namespace (an empty `*mangle` appears in every later
 * `iptables-legacy-save`, and no command removes it), while `-m ... -h`
 * touches no table. So only the tables the rule set needs are probed: pass
 * them in `options.tables` (plan.ts does), and a legacy install plus
 * uninstall leaves no table that was not there or needed.
 *
 * On nft, `-t` tells nothing the plain dump does not: iptables-nft knows its
 * built-in tables in userspace and prints a table the kernel does not have
 * as its empty built-in chains, exit 0 (checked with iptables 1.8.9 in an
 * empty namespace: `-t nat`, `-t raw` and `-t mangle` all do, and the kernel
 * still has no table afterwards). So on nft every table exists when the
 * plain save runs, and `DOCKER_OUTPUT` comes from that same dump: one read
 * instead of one per table.
 *
 * @example
 * ```ts ignore
 * const f = await probeFunctionality(runner, v4);
 * assertMinimumFunctionality(f);
 * ```
 */
export async function probeFunctionality(
  runner: Runner,
  exe: Executables,
  options: ProbeOptions = {},
): Promise<Functionality> {
  const wanted = new Set<TableName>(["nat", ...(options.tables ?? TABLES)]);
  const known = options.modules;
  const [modules, tables] = await Promise.all([
    known ? MODULES.map((m) => known[m]) : probeModules(runner, exe),
    exe.mode === "nft"
      ? nftTables(runner, exe, wanted, options)
      : Promise.all(TABLES.map(async (t) => {
        if (!wanted.has(t)) return undefined;
        const out = await succeeds(runner, exe.save, ["-t", t]);
        return out === undefined ? undefined : parseSave(out);
      })),
  ]);
  const has = (i: number) => modules[i];
  const nat = tables[0];
  return {
    tables: {
      nat: nat !== undefined,
      raw: tables[1] !== undefined,
      mangle: tables[2] !== undefined,
    },
    modules: {
      comment: has(0),
      conntrack: has(1),
      owner: has(2),
      multiport: has(3),
      tcp: has(4),
      udp: has(5),
    },
    dockerOutput: nat !== undefined && hasChain(nat, "nat", "DOCKER_OUTPUT"),
  };
}

/**
 * Whether each of {@link MODULES} loads, in that order: one
 * `<iptables> -m comment -m conntrack ... -h` first, and the six single
 * `-m X -h` probes only when that fails. iptables loads each `-m` extension
 * as it parses the arguments and exits 2 on the first it cannot load
 * ("Couldn't load match"), and `-h` then prints the help of all of them and
 * exits 0 (`do_parse`, iptables/xshared.c since 1.8.8; checked with 1.8.9,
 * nft and legacy), so exit 0 means every single probe would succeed too.
 */
async function probeModules(runner: Runner, exe: Executables): Promise<boolean[]> {
  const all = await succeeds(runner, exe.iptables, [...MODULES.flatMap((m) => ["-m", m]), "-h"]);
  if (all !== undefined) return MODULES.map(() => true);
  return await Promise.all(
    MODULES.map(async (m) => await succeeds(runner, exe.iptables, ["-m", m, "-h"]) !== undefined),
  );
}

/**
 * nft: each wanted table, as the plain dump, when the save runs (see
 * {@linkcode probeFunctionality}); none when it does not, as `-t` would fail too.
 */
async function nftTables(
  runner: Runner,
  exe: Executables,
  wanted: ReadonlySet<TableName>,
  options: ProbeOptions,
): Promise<(SaveDump | undefined)[]> {
  let dump: SaveDump | undefined;
  try {
    dump = await (options.readDump ?? (() => readDump(runner, exe)))();
  } catch {
    dump = undefined;
  }
  return TABLES.map((t) => wanted.has(t) ? dump : undefined);
}

/**
 * Throws {@linkcode ExecutablesError} (`minimum_requirements`) unless the nat
 * table and the tcp and owner modules exist: without them no redirect works.
 *
 * @example
 * ```ts
 * import { assertMinimumFunctionality } from "./functionality.ts";
 * import { FULL_FUNCTIONALITY } from "../rules/facts.ts";
 * assertMinimumFunctionality(FULL_FUNCTIONALITY);
 * ```
 */
export function assertMinimumFunctionality(f: Functionality): void {
  const missing = [
    ...(f.tables.nat ? [] : ['table: "nat"']),
    ...(f.modules.tcp ? [] : ['module: "tcp"']),
    ...(f.modules.owner ? [] : ['module: "owner"']),
  ];
  if (missing.length > 0) {
    throw new ExecutablesError(
      "minimum_requirements",
      `unmet minimal requirements: missing ${missing.join(", missing ")}`,
      missing,
    );
  }
}
