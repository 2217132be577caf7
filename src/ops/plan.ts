/**
 * From the resolved config and the host to the rules: the kuma-dp user, the
 * IP families, the iptables backend and what it can do, and the generated
 * rule sets with their restore text. Shared by install, dry-run and status.
 */
import type { Config } from "../config/types.ts";
import { DEFAULT_KUMA_DP_UID, DEFAULT_KUMA_DP_USER } from "../config/defaults.ts";
import { configWarnings } from "./config_warnings.ts";
import type { HostFacts, Ipv6State } from "../host/facts.ts";
import { type BuildFacts, FULL_FUNCTIONALITY, type Functionality } from "../rules/facts.ts";
import { ConfigError } from "../config/errors.ts";
import type { Origin } from "../config/resolve.ts";
import { MAX_LIST_ITEMS, parseIpOrCidr } from "../config/values.ts";
import { BoundedReadError } from "../os/bounded_read.ts";
import {
  detectExecutables,
  type Executables,
  type Uninspectable,
} from "../iptables/executables.ts";
import { assertMinimumFunctionality, probeFunctionality } from "../iptables/functionality.ts";
import { LiveDumps } from "../iptables/dumps.ts";
import type { Runner } from "../os/runner.ts";
import { buildRuleSet } from "../rules/build.ts";
import type { Family, RuleSet } from "../rules/model.ts";
import { renderOptionsFor, renderRestore } from "../rules/render.ts";
import { nftOptionsFor, renderNftScript } from "../nftables/script.ts";
import { UserError } from "./errors.ts";
import type { FamilyNote } from "./status_report.ts";
import { quoted } from "../config/errors.ts";

export interface FamilyPlan {
  family: Family;
  /** Undefined with the nftables backend, and in a dry run on a host without a usable iptables. */
  exe?: Executables;
  functionality: Functionality;
  ruleSet: RuleSet;
  comments: boolean;
  /** iptables-restore input. */
  text: string;
  /** The real file `exe.iptables` runs, when known: families sharing it share module answers. */
  iptablesFile?: string;
}

export interface InstallPlan {
  uid: number;
  families: FamilyPlan[];
  /** Every working backend of both families (empty in a dry run without iptables): where earlier installations may be. */
  executables: Executables[];
  /** Backends whose tools are missing or broken, so that our rules there cannot be seen. */
  uninspectable: Uninspectable[];
  /** Families the config asks for that this host does not get, and why. */
  skipped: FamilyNote[];
  warnings: string[];
  /** With `backend: nftables`: the `nft -f` input of both families. */
  nftScript?: string;
}

export interface PlanDeps {
  runner: Runner;
  facts: HostFacts;
  /** Where each setting came from (Resolved.origins), for config errors about host files. */
  origins?: Record<string, Origin>;
  /**
   * The run's dumps, to share with what follows the plan (the apply, the
   * removal of earlier installations, status). Planning reads through them.
   */
  dumps?: LiveDumps;
  /**
   * Read every backend's dump while planning, beside the probes (a real
   * install or status needs them all): under the run lock only.
   */
  prefetchDumps?: boolean;
}

/** Resolves the kuma-dp user as kumactl does: the given UID or name, else UID 5678, else user kuma-dp. */
async function resolveKumaDpUid(
  wanted: string,
  facts: HostFacts,
): Promise<number | undefined> {
  if (wanted !== "") return (await facts.lookupUser(wanted))?.uid;
  return (await facts.lookupUser(String(DEFAULT_KUMA_DP_UID)))?.uid ??
    (await facts.lookupUser(DEFAULT_KUMA_DP_USER))?.uid;
}

async function kumaDpUid(config: Config, facts: HostFacts, warnings: string[]): Promise<number> {
  const uid = await resolveKumaDpUid(config.kumaDPUser, facts);
  if (uid !== undefined) return uid;
  const what = config.kumaDPUser === ""
    ? `no kuma-dp user given, and no user with UID ${DEFAULT_KUMA_DP_UID} or name '${DEFAULT_KUMA_DP_USER}' exists`
    : `kumaDPUser ${quoted(config.kumaDPUser)} is not a UID or user name known on this host`;
  if (!config.dryRun) {
    throw new UserError(
      `${what}: create the user that runs kuma-dp first, or name it with --kuma-dp-user`,
    );
  }
  const fallback = /^\d+$/.test(config.kumaDPUser)
    ? Number(config.kumaDPUser)
    : DEFAULT_KUMA_DP_UID;
  warnings.push(`${what}; the dry run shows the rules for UID ${fallback}`);
  return fallback;
}

/**
 * The resolv.conf entries of one family, as the rules write them (an
 * IPv4-mapped `::ffff:10.0.0.53` is IPv4 10.0.0.53, as kumactl's `To4()`
 * has it); entries that are not addresses are ignored.
 */
function nameserversOf(addresses: string[], family: Family): string[] {
  return addresses.flatMap((address) => {
    try {
      const ip = parseIpOrCidr(address);
      return ip.family === family ? [ip.text] : [];
    } catch {
      return [];
    }
  });
}

/** Why a dual-stack config configures IPv4 only on this host, by IPv6 state. */
const IPV6_SKIPPED: Record<Exclude<Ipv6State, "available">, string> = {
  disabled: "IPv6 is disabled on this host (no interface has an IPv6 address, not even ::1)",
};

/**
 * Which families to configure: IPv4 always, IPv6 in dualstack mode when the
 * host has IPv6 (kumactl skips it silently otherwise; we say so, and why).
 */
async function plannedFamilies(
  config: Config,
  facts: HostFacts,
): Promise<{ families: Family[]; skipped: FamilyNote[] }> {
  if (config.ipFamilyMode === "ipv4") return { families: [4], skipped: [] };
  const state = await facts.ipv6();
  if (state === "available") return { families: [4, 6], skipped: [] };
  return { families: [4], skipped: [{ family: 6, reason: IPV6_SKIPPED[state] }] };
}

const RESOLV_CONF = "redirect.dns.resolvConfigPath";

/**
 * The nameservers DNS redirection needs, read before anything else: the
 * resolv.conf path is input like any setting, so a missing or unreadable
 * one is a config error (exit 2) that names where the path came from.
 */
async function readNameservers(config: Config, deps: PlanDeps): Promise<string[]> {
  const dns = config.redirect.dns;
  if (!dns.enabled || dns.captureAll) return [];
  const problem = (reason: string, expected: string) =>
    new ConfigError({
      code: "invalid_value",
      path: RESOLV_CONF,
      source: deps.origins?.[RESOLV_CONF] ?? "default",
      value: dns.resolvConfigPath,
      reason,
      expected,
    });
  let nameservers: string[];
  try {
    nameservers = await deps.facts.nameservers(dns.resolvConfigPath);
  } catch (e) {
    if (e instanceof BoundedReadError) throw problem(e.reason, e.expected);
    const reason = e instanceof Deno.errors.NotFound
      ? "does not exist"
      : `cannot be read: ${e instanceof Error ? e.message : String(e)}`;
    throw problem(reason, "a readable resolv.conf, since DNS redirection is on");
  }
  if (nameservers.length > MAX_LIST_ITEMS) {
    throw problem(
      `lists ${nameservers.length} nameservers, more than the limit of ${MAX_LIST_ITEMS}`,
      `at most ${MAX_LIST_ITEMS} (glibc uses the first 3)`,
    );
  }
  return nameservers;
}

export async function planInstall(config: Config, deps: PlanDeps): Promise<InstallPlan> {
  const warnings: string[] = [];
  const dumps = deps.dumps ?? new LiveDumps(deps.runner);
  const realPath = deps.facts.realExecutable?.bind(deps.facts);
  // Detection and the loopback interface only read, and need none of the
  // config checks below: they start first and run beside them. Their errors
  // still come after a config error, as when everything ran in turn.
  const detection = detectExecutables(deps.runner, config, {
    realPath,
    // Every set's save is read before it is used, which proves it runs.
    trustFileNames: realPath !== undefined,
    readDump: (exe) => dumps.read(exe),
  });
  detection.catch(() => {}); // awaited below, unless a config error comes first
  const loopbackName = deps.facts.loopbackInterface();
  loopbackName.catch(() => {});
  const nameservers = await readNameservers(config, deps);
  const uid = await kumaDpUid(config, deps.facts, warnings);
  warnings.push(...configWarnings(config, uid));
  const { families, skipped } = await plannedFamilies(config, deps.facts);
  const loopback = await loopbackName;

  // With nftables, iptables is only where earlier installations may be left.
  const nftables = config.backend === "nftables";
  let exes: Partial<Record<Family, Executables>> = {};
  let all: Executables[] = [];
  let uninspectable: Uninspectable[] = [];
  try {
    const detected = await detection;
    if (!nftables) warnings.push(...detected.warnings);
    exes = nftables ? {} : { 4: detected.v4, 6: detected.v6 };
    all = detected.all;
    uninspectable = detected.uninspectable;
  } catch (e) {
    // With nftables, no usable iptables means nothing of ours can be in it.
    if (!nftables) {
      if (!config.dryRun) throw e;
      // kumactl also carries on in a dry run; it then assumes no modules at all,
      // which silently drops every comment. We assume a standard host instead.
      warnings.push(
        `${(e as Error).message}; the dry run assumes a host with every iptables table and module`,
      );
    }
  }

  // A legacy table probe (`-t`) instantiates the table, which changes what
  // the plain save prints: those families' dumps are read after the probes.
  const probed = new Set(Object.values(exes).filter((e) => e?.mode === "legacy"));
  if (deps.prefetchDumps) dumps.prefetch(all.filter((e) => !probed.has(e)));
  const plans: FamilyPlan[] = [];
  for (const family of families) {
    const exe = exes[family];
    if (family === 6 && !exe && exes[4] && !nftables) {
      warnings.push("no working ip6tables found; IPv6 traffic will not be redirected");
      skipped.push({ family: 6, reason: "no working ip6tables found" });
      continue;
    }
    const base = {
      family,
      uid,
      loopback,
      nameservers: nameserversOf(nameservers, family),
    };
    // Probe only the tables this config can use: probing a legacy table
    // instantiates it for good (functionality.ts).
    const tables = buildRuleSet(config, { ...base, functionality: FULL_FUNCTIONALITY })
      .ruleSet.tables.map((t) => t.name);
    const real = exe && deps.facts.realExecutable
      ? await deps.facts.realExecutable(exe.iptables)
      : undefined;
    const same = plans.find((p) => real !== undefined && p.iptablesFile === real);
    const functionality = exe
      ? await probeFunctionality(deps.runner, exe, {
        tables,
        modules: same?.functionality.modules,
        readDump: () => dumps.read(exe),
      })
      : FULL_FUNCTIONALITY;
    if (exe && probed.has(exe)) dumps.forget(exe);
    // kumactl's minimum: the nat table and the tcp and owner modules. nft
    // has every match built in; the kernel check before applying stands in.
    if (!config.dryRun && !nftables) assertMinimumFunctionality(functionality);
    const facts: BuildFacts = { ...base, functionality };
    const built = buildRuleSet(config, facts);
    warnings.push(...built.warnings);
    const options = renderOptionsFor(config, functionality);
    plans.push({
      family,
      exe,
      functionality,
      ruleSet: built.ruleSet,
      comments: options.comments,
      text: renderRestore(built.ruleSet, options),
      iptablesFile: real,
    });
  }
  if (deps.prefetchDumps) dumps.prefetch(all);
  for (const s of skipped) warnings.push(`${s.reason}: configuring IPv4 only`);
  const plan: InstallPlan = {
    uid,
    families: plans,
    executables: all,
    uninspectable,
    skipped,
    warnings,
  };
  if (nftables) {
    plan.nftScript = renderNftScript(plans.map((p) => p.ruleSet), nftOptionsFor(config));
  }
  return plan;
}

/** Restore commands per firewalld `ipv`, from the detected executables. */
export function restoreCommands(plan: InstallPlan): { ipv4?: string; ipv6?: string } {
  return Object.fromEntries(
    plan.families.map((f) => [f.family === 4 ? "ipv4" : "ipv6", f.exe!.restore]),
  );
}
