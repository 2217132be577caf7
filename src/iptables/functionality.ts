/**
 * What a backend can do (kumactl `Functionality`): which match modules and
 * tables exist, and whether Docker's DOCKER_OUTPUT chain is present.
 */
import type { Functionality } from "../host/facts.ts";
import { ExecutablesError } from "./errors.ts";
import type { Executables } from "./executables.ts";
import type { Runner } from "./runner.ts";
import { hasChain, parseSave } from "./save_parser.ts";

const MODULES = ["comment", "conntrack", "owner", "multiport", "tcp", "udp"] as const;
const TABLES = ["nat", "raw", "mangle"] as const;

async function succeeds(runner: Runner, cmd: string, args: string[]): Promise<string | undefined> {
  try {
    const r = await runner.run(cmd, args);
    return r.code === 0 ? r.stdout : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Probes modules with `<iptables> -m <module> -h` and tables with
 * `<save> -t <table>`, as kumactl does. On legacy, `-t` loads the table's
 * kernel module; that is the backend we are about to use anyway.
 *
 * @example
 * ```ts ignore
 * const f = await probeFunctionality(runner, v4);
 * assertMinimumFunctionality(f);
 * ```
 */
export async function probeFunctionality(runner: Runner, exe: Executables): Promise<Functionality> {
  const [modules, tables] = await Promise.all([
    Promise.all(MODULES.map((m) => succeeds(runner, exe.iptables, ["-m", m, "-h"]))),
    Promise.all(TABLES.map((t) => succeeds(runner, exe.save, ["-t", t]))),
  ]);
  const has = (i: number) => modules[i] !== undefined;
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
    dockerOutput: nat !== undefined && hasChain(parseSave(nat), "nat", "DOCKER_OUTPUT"),
  };
}

/**
 * Throws {@linkcode ExecutablesError} (`minimum_requirements`) unless the nat
 * table and the tcp and owner modules exist: without them no redirect works.
 *
 * @example
 * ```ts
 * import { assertMinimumFunctionality } from "./functionality.ts";
 * import { FULL_FUNCTIONALITY } from "../host/facts.ts";
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
      `Unmet minimal requirements: missing ${missing.join(", missing ")}`,
      missing,
    );
  }
}
