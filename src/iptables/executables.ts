/**
 * Finds the iptables, iptables-save and iptables-restore executables of each
 * backend and picks one, as kumactl does (kumactl K3.1, docs/kumactl.md#k3-1). One difference: the
 * "existing rules" test reads a plain `<save>` dump (no `-t`), which lists
 * only tables that already exist, so probing the legacy tools no longer loads
 * empty legacy tables into the kernel.
 */
import type { Config, ExecutableName } from "../config/types.ts";
import type { Family } from "../rules/model.ts";
import { ExecError, ExecutablesError } from "./errors.ts";
import type { Runner } from "../os/runner.ts";
import { DEFAULT_PATH_DIRS } from "../os/search_path.ts";
import { hasChain, hasRules, parseSave, type SaveDump } from "./save_parser.ts";

export type Mode = "nft" | "legacy";

/** One backend's tools for one IP family. */
export interface Executables {
  mode: Mode;
  family: Family;
  iptables: string;
  save: string;
  restore: string;
}

/**
 * A backend of one family that cannot be inspected, though our rules may be
 * there: its tools are missing or broken while the same backend works for
 * the other family (or no backend works at all). Uninstall and status must
 * say so instead of reporting "nothing found".
 */
export interface Uninspectable {
  family: Family;
  /** Undefined when no backend of any family works. */
  mode?: Mode;
  reason: string;
}

/**
 * The two settings detection reads: which families, and the user's own
 * paths (`--iptables-executables`). Callers may pass a whole `Config`.
 */
export type ExecutableSettings = Pick<Config, "ipFamilyMode" | "iptablesExecutables">;

/** Options of {@linkcode detectExecutables}. */
export interface DetectOptions {
  /** Searched after PATH, in order (kumactl's fallback directories by default). */
  pathDirs?: string[];
  /**
   * The real file of a command (HostFacts.realExecutable): names that
   * resolve to one file are asked `--version` once.
   */
  realPath?: (cmd: string) => Promise<string | undefined>;
  /**
   * With `realPath`: a name whose real file is one of iptables' multi-call
   * binaries takes that binary's mode without running it
   * ({@linkcode modeFromFileName}). Off, every real file is asked
   * `--version`, which also proves it runs; a caller that turns this on reads
   * each set's save next, which proves it too (the CLI does).
   */
  trustFileNames?: boolean;
  /** Reads a plain dump for the backend choice ({@linkcode readDump} by default; src/iptables/dumps.ts shares it). */
  readDump?: (exe: Executables) => Promise<SaveDump>;
}

/** Modes in kumactl's order of preference. */
export const MODES: readonly Mode[] = ["nft", "legacy"];

const VERSION = /^ip6?tables[\w-]*? v(\d+(?:\.\d+)+)(?: \((.*?)\))?/m;

/**
 * The mode an executable's `--version` output reports: `(nf_tables)` is nft;
 * `(legacy)` or no parenthesised part is legacy; so is an iptables too old to
 * know `--version`. Anything else is not an iptables of a known mode.
 *
 * @example
 * ```ts
 * import { modeFromVersion } from "./executables.ts";
 * if (modeFromVersion("iptables v1.8.9 (nf_tables)\n") !== "nft") throw new Error();
 * if (modeFromVersion("iptables-save v1.8.9 (legacy)\n") !== "legacy") throw new Error();
 * ```
 */
export function modeFromVersion(output: string): Mode | undefined {
  const m = VERSION.exec(output);
  if (m) {
    if (m[2] === undefined || m[2] === "legacy") return "legacy";
    return m[2] === "nf_tables" ? "nft" : undefined;
  }
  if (/^ip6?tables.*(?:unrecognized|unknown) option .*--version/m.test(output)) return "legacy";
  return undefined;
}

/**
 * The mode of a real file by its name, when it is one of the multi-call
 * binaries iptables 1.8 installs every name of a backend as a symlink to
 * (iptables/Makefile.am: `xtables-nft-multi`, `xtables-legacy-multi`; the
 * `-nft` build also serves `iptables-nft-save` and the rest). Anything else
 * (a wrapper script, a custom or older build) is undefined: ask it.
 *
 * @example
 * ```ts
 * import { modeFromFileName } from "./executables.ts";
 * if (modeFromFileName("/usr/sbin/xtables-nft-multi") !== "nft") throw new Error();
 * if (modeFromFileName("/opt/bin/iptables") !== undefined) throw new Error();
 * ```
 */
export function modeFromFileName(realFile: string): Mode | undefined {
  const name = realFile.slice(realFile.lastIndexOf("/") + 1);
  return name === "xtables-nft-multi"
    ? "nft"
    : name === "xtables-legacy-multi"
    ? "legacy"
    : undefined;
}

/**
 * Caches `--version` answers by name and, when the real file of a name is
 * known, by that file: iptables 1.8 installs every name of a backend as a
 * symlink to one multi-call binary (xtables-nft-multi, xtables-legacy-multi;
 * iptables' Makefile.am), whose backend does not depend on the name it is
 * run as, so one call per binary answers for all its names. With
 * `trustFileNames`, such a binary is not asked at all.
 */
interface VersionCache {
  answers: Map<string, Promise<Mode | undefined>>;
  realPath?: (cmd: string) => Promise<string | undefined>;
  trustFileNames?: boolean;
}

function probeMode(runner: Runner, path: string, cache: VersionCache): Promise<Mode | undefined> {
  const ask = () =>
    runner.run(path, ["--version"]).then(
      (r) => modeFromVersion(`${r.stdout}\n${r.stderr}`),
      () => undefined, // could not start: no such executable
    );
  let p = cache.answers.get(path);
  if (!p) {
    p = cache.realPath
      ? cache.realPath(path).then((real) => {
        // Not found by the lookup: ask anyway, the runner may find it.
        if (real === undefined) return ask();
        const byName = cache.trustFileNames ? modeFromFileName(real) : undefined;
        if (byName) return byName;
        let q = cache.answers.get(`file:${real}`);
        if (!q) cache.answers.set(`file:${real}`, q = ask());
        return q;
      })
      : ask();
    cache.answers.set(path, p);
  }
  return p;
}

type Tool = "" | "-save" | "-restore";

/** Candidates in kumactl's order: `<base>-<mode><tool>`, then `<base><tool>`; each via PATH, then in `dirs`. */
export function candidates(
  family: Family,
  mode: Mode,
  tool: Tool,
  dirs: readonly string[],
): string[] {
  const base = family === 4 ? "iptables" : "ip6tables";
  return [`${base}-${mode}${tool}`, `${base}${tool}`].flatMap((name) => [
    name,
    ...dirs.map((d) => `${d.replace(/\/+$/, "")}/${name}`),
  ]);
}

async function findTool(
  runner: Runner,
  family: Family,
  mode: Mode,
  tool: Tool,
  dirs: readonly string[],
  cache: VersionCache,
): Promise<string | undefined> {
  for (const path of candidates(family, mode, tool, dirs)) {
    if ((await probeMode(runner, path, cache)) === mode) return path;
  }
  return undefined;
}

async function findSet(
  runner: Runner,
  family: Family,
  mode: Mode,
  dirs: readonly string[],
  cache: VersionCache,
): Promise<Executables | undefined> {
  const [iptables, save, restore] = await Promise.all(
    (["", "-save", "-restore"] as Tool[]).map((t) =>
      findTool(runner, family, mode, t, dirs, cache)
    ),
  );
  if (!iptables || !save || !restore) return undefined;
  return { mode, family, iptables, save, restore };
}

function customNames(family: Family): [ExecutableName, ExecutableName, ExecutableName] {
  return family === 4
    ? ["iptables", "iptables-save", "iptables-restore"]
    : ["ip6tables", "ip6tables-save", "ip6tables-restore"];
}

/**
 * The user's paths for one family, if all three are given and each reports a
 * mode. Partial or unusable paths give a warning (kumactl falls back to
 * auto-detection too); paths of different modes are an error, because
 * rules and their cleanup would go to different backends.
 */
async function customSet(
  runner: Runner,
  family: Family,
  settings: ExecutableSettings,
  cache: VersionCache,
  warnings: string[],
): Promise<Executables | undefined> {
  const names = customNames(family);
  const paths = names.map((n) => settings.iptablesExecutables?.[n]?.trim() ?? "");
  const given = paths.filter((p) => p !== "").length;
  if (given === 0) return undefined;
  if (given < 3) {
    const missing = names.filter((_, i) => paths[i] === "").join(", ");
    warnings.push(
      `custom ${
        names[0]
      } executables ignored: ${missing} not given (all three are needed); detecting them automatically`,
    );
    return undefined;
  }
  const modes = await Promise.all(paths.map((p) => probeMode(runner, p, cache)));
  const bad = paths.filter((_, i) => modes[i] === undefined);
  if (bad.length > 0) {
    warnings.push(
      `custom ${names[0]} executables ignored: ${bad.map((p) => `"${p}"`).join(", ")} ` +
        `did not report an iptables version; detecting them automatically`,
    );
    return undefined;
  }
  if (new Set(modes).size > 1) {
    throw new ExecutablesError(
      "mixed_types",
      `executables are of mixed types: ${
        names.map((n, i) => `${n}="${paths[i]}" (${modes[i]})`).join(", ")
      }; give three executables of the same backend`,
      paths,
    );
  }
  return { mode: modes[0]!, family, iptables: paths[0], save: paths[1], restore: paths[2] };
}

/**
 * Runs `<save>` with no table argument and parses it. A plain dump lists only
 * tables that exist, so unlike `-t nat` it loads no legacy table modules.
 */
export async function readDump(runner: Runner, exe: Executables): Promise<SaveDump> {
  const command = [exe.save];
  let r;
  try {
    r = await runner.run(exe.save, []);
  } catch (e) {
    throw new ExecError({ command, exitCode: -1, stderr: String(e), code: "not_found" });
  }
  if (r.code !== 0) throw new ExecError({ command, exitCode: r.code, stderr: r.stderr });
  return parseSave(r.stdout);
}

/**
 * Picks the IPv4 backend when both work (kumactl K3.2, docs/kumactl.md#k3-2):
 * the one with rules; when both have rules, the one with Docker's
 * `DOCKER_OUTPUT` chain; otherwise nft.
 *
 * @example
 * ```ts
 * import { chooseMode } from "./executables.ts";
 * const r = chooseMode({ hasRules: false, dockerOutput: false }, { hasRules: true, dockerOutput: false });
 * if (r.mode !== "legacy") throw new Error();
 * ```
 */
export function chooseMode(
  nft: { hasRules: boolean; dockerOutput: boolean },
  legacy: { hasRules: boolean; dockerOutput: boolean },
): { mode: Mode; warning?: string } {
  if (nft.hasRules && legacy.hasRules) {
    if (nft.dockerOutput === legacy.dockerOutput) {
      return {
        mode: "nft",
        warning: "Conflicting iptables modes detected: both nft and legacy hold rules. " +
          "iptables-legacy will be ignored, and iptables-nft will be used",
      };
    }
    return { mode: nft.dockerOutput ? "nft" : "legacy" };
  }
  return { mode: legacy.hasRules ? "legacy" : "nft" };
}

/**
 * Detects the executables to install with: IPv4 by the rules above, IPv6
 * with the IPv4 mode (unless all three ip6tables paths are configured), and
 * no IPv6 when `ipFamilyMode` is `ipv4` or no ip6tables of that mode exists.
 * Throws {@linkcode ExecutablesError} when no backend works.
 *
 * @example
 * ```ts ignore
 * const { v4, v6, all, warnings } = await detectExecutables(new SystemRunner(), config);
 * ```
 */
export async function detectExecutables(
  runner: Runner,
  settings: ExecutableSettings,
  options: DetectOptions = {},
): Promise<
  {
    v4: Executables;
    v6?: Executables;
    all: Executables[];
    uninspectable: Uninspectable[];
    warnings: string[];
  }
> {
  const dirs = options.pathDirs ?? DEFAULT_PATH_DIRS;
  const warnings: string[] = [];
  const { custom, all } = await findAll(runner, settings, dirs, warnings, options);
  const uninspectable = uninspectableBackends(all, dirs);

  let v4 = custom[4];
  if (!v4) {
    const found: Record<Mode, { exe: Executables; dump: SaveDump } | undefined> = {
      nft: undefined,
      legacy: undefined,
    };
    const read = options.readDump ?? ((exe: Executables) => readDump(runner, exe));
    const v4s = all.filter((e) => e.family === 4);
    // Both backends at once: plain saves only read.
    const dumps = await Promise.allSettled(v4s.map(read));
    for (const [i, exe] of v4s.entries()) {
      const d = dumps[i];
      if (d.status === "fulfilled") found[exe.mode] = { exe, dump: d.value };
      else warnings.push(`Ignoring ${exe.mode} executables: ${(d.reason as Error).message}`);
    }
    if (found.nft && found.legacy) {
      const facts = (d: SaveDump) => ({
        hasRules: hasRules(d),
        dockerOutput: hasChain(d, "nat", "DOCKER_OUTPUT"),
      });
      const choice = chooseMode(facts(found.nft.dump), facts(found.legacy.dump));
      if (choice.warning) warnings.push(choice.warning);
      v4 = found[choice.mode]!.exe;
    } else {
      v4 = (found.nft ?? found.legacy)?.exe;
    }
    if (!v4) {
      throw new ExecutablesError(
        "not_found",
        `failed to find valid nft or legacy executables (searched PATH and ${dirs.join(", ")})`,
      );
    }
  }

  if (settings.ipFamilyMode === "ipv4") return { v4, all, uninspectable, warnings };
  const mode = v4.mode;
  const v6 = custom[6] ?? all.find((e) => e.family === 6 && e.mode === mode);
  if (!v6) {
    warnings.push(`No ip6tables executables of mode ${mode} found; IPv6 will be skipped`);
  }
  return { v4, v6, all, uninspectable, warnings };
}

/**
 * Backends of a family whose tools are missing or broken while the same
 * backend works for the other family: iptables packages ship both families
 * together (Debian's and RHEL's `iptables` both carry ip6tables), so one
 * family missing means the tools were removed or broke, and rules an earlier
 * install put there cannot be seen. A backend missing for both families
 * (legacy on RHEL 8+) is simply not installed; with no backend at all,
 * nothing can be inspected.
 *
 * @example
 * ```ts
 * import { uninspectableBackends } from "./executables.ts";
 * const v4 = { mode: "nft", family: 4, iptables: "iptables", save: "iptables-save", restore: "iptables-restore" } as const;
 * const [gap] = uninspectableBackends([v4]);
 * if (gap.family !== 6 || gap.mode !== "nft") throw new Error();
 * ```
 */
export function uninspectableBackends(
  all: readonly Executables[],
  dirs: readonly string[] = DEFAULT_PATH_DIRS,
): Uninspectable[] {
  const where = `searched PATH and ${dirs.join(", ")}`;
  if (all.length === 0) {
    return ([4, 6] as Family[]).map((family) => ({
      family,
      reason: `no working iptables or ip6tables tools of either backend found (${where})`,
    }));
  }
  const out: Uninspectable[] = [];
  for (const mode of MODES) {
    for (const family of [4, 6] as Family[]) {
      const other = family === 4 ? 6 : 4;
      const has = (f: Family) => all.some((e) => e.family === f && e.mode === mode);
      if (has(family) || !has(other)) continue;
      const base = family === 4 ? "iptables" : "ip6tables";
      out.push({
        family,
        mode,
        reason: `no working ${base}, ${base}-save and ${base}-restore of the ${mode} backend ` +
          `found (${where}), though its IPv${other} tools work`,
      });
    }
  }
  return out;
}

/**
 * One discovery pass: the configured sets (custom paths, per family) and
 * every working set of both families and modes, with configured paths
 * replacing the detected set of their family and mode. Shared by install's
 * choice and by cleanup, so `--version` is asked once per binary.
 */
async function findAll(
  runner: Runner,
  settings: ExecutableSettings,
  dirs: readonly string[],
  warnings: string[],
  options: Pick<DetectOptions, "realPath" | "trustFileNames">,
): Promise<{ custom: Partial<Record<Family, Executables>>; all: Executables[] }> {
  const cache: VersionCache = {
    answers: new Map(),
    realPath: options.realPath,
    trustFileNames: options.trustFileNames,
  };
  // Both families and modes at once (the cache asks each file once); the
  // results and warnings keep the order of a one-by-one search.
  const perFamily = await Promise.all(([4, 6] as Family[]).map(async (family) => {
    const notes: string[] = [];
    const set = await customSet(runner, family, settings, cache, notes);
    const found = await Promise.all(
      MODES.map((mode) =>
        set?.mode === mode ? undefined : findSet(runner, family, mode, dirs, cache)
      ),
    );
    return { family, set, notes, found };
  }));
  const custom: Partial<Record<Family, Executables>> = {};
  const all: Executables[] = [];
  for (const { family, set, notes, found } of perFamily) {
    warnings.push(...notes);
    if (set) {
      custom[family] = set;
      all.push(set);
    }
    for (const exe of found) if (exe) all.push(exe);
  }
  return { custom, all };
}

/**
 * Every backend and family that has working executables, for uninstall,
 * which must clean both backends whichever was used to install. Configured
 * paths replace the detected set of their family and mode.
 */
export async function detectAllExecutables(
  runner: Runner,
  settings: ExecutableSettings,
  options: DetectOptions = {},
): Promise<{ executables: Executables[]; uninspectable: Uninspectable[]; warnings: string[] }> {
  const warnings: string[] = [];
  const dirs = options.pathDirs ?? DEFAULT_PATH_DIRS;
  const { all } = await findAll(runner, settings, dirs, warnings, options);
  return { executables: all, uninspectable: uninspectableBackends(all, dirs), warnings };
}
