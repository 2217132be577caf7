/**
 * Persisting our rules with firewalld, and taking them out again.
 *
 * - firewalld running: it must own the rules, because firewalld 1.x flushes
 *   the iptables tables on start, reload and stop (firewalld F1,
 *   docs/firewalld.md#f1). We write the permanent direct config (survives
 *   reload, restart, reboot) and the runtime direct config (effective now)
 *   over D-Bus.
 * - firewalld installed but stopped: we edit direct.xml, which it applies at
 *   its next start.
 *
 * Either way only our entries (see `isOurEntry`) are removed or replaced;
 * foreign chains, rules and passthroughs are left as they were.
 *
 * Decide, then execute: what changes is worked out by the pure functions of
 * `persist_plan.ts` from the state read first; the code here only reads
 * state, applies a {@link PersistPlan} and, on failure, applies the plan
 * back to the state read before.
 *
 * @module
 */
import type { Runner } from "../os/runner.ts";
import type { RuleSet } from "../rules/model.ts";
import type { DirectConfig, FirewalldBus } from "./bus.ts";
import {
  describeEntry,
  type DirectEntry,
  isOurEntry,
  sameEntry,
  toDirectEntries,
  type ToDirectEntriesOptions,
} from "./direct_entries.ts";
import { isEmptyDirectXml } from "./direct_xml_render.ts";
import {
  DEFAULT_DIRECT_XML_PATH,
  parentExists,
  readDirectXmlFile,
  removeDirectXmlFile,
  writeFileAtomic,
} from "./direct_xml_file.ts";
import { FirewalldError } from "./errors.ts";
import { assertNoForeignJump } from "./foreign_jump.ts";
import {
  oursOf,
  permanentOurs,
  type PersistPlan,
  planRemove,
  planStore,
  rollbackPlan,
  type RuntimeChange,
} from "./persist_plan.ts";
import { type RestoreCommands, validateEntries } from "./validate.ts";

/** What a store or remove did. */
export interface PersistReport {
  /** `dbus`: permanent and runtime config through firewalld; `direct.xml`: the file, firewalld stopped. */
  mechanism: "dbus" | "direct.xml";
  /** Entries written. */
  added: DirectEntry[];
  /** Our entries taken out, by where they were. */
  removed: { permanent: DirectEntry[]; runtime: DirectEntry[]; directXml: DirectEntry[] };
  /** The direct.xml that was edited (mechanism `direct.xml`). */
  directXmlPath?: string;
  /** Only the runtime config was changed (`runtimeOnly`): the permanent one waits. */
  runtimeOnly?: boolean;
}

/** Options of the store functions. */
export interface StoreOptions extends ToDirectEntriesOptions {
  /** Commands for the `--test` validation; default iptables-restore / ip6tables-restore. */
  restoreCommands?: RestoreCommands;
  /**
   * A running firewalld's runtime config only, the permanent one untouched
   * (an install waiting for confirmation: src/ops/confirm).
   */
  runtimeOnly?: boolean;
}

/** Options naming direct.xml. */
export interface DirectXmlOptions {
  /** Default {@link DEFAULT_DIRECT_XML_PATH}. */
  directXmlPath?: string;
}

/**
 * Stores the rule sets with a running firewalld: validates them, replaces
 * our old entries in the permanent config (`config.direct.update`) and in the
 * runtime config (`direct.addChain`/`addRule`). If firewalld refuses any
 * step, its previous direct config (permanent and runtime) is restored and a
 * `rejected` error says so (`rollback_failed` if restoring failed too). If
 * firewalld leaves the bus mid-way (killed, crashed), the previous permanent
 * config is restored by rewriting direct.xml, which it reads at its next
 * start, and a `firewalld_gone` error says so.
 */
export async function storeWithFirewalld(
  deps: { bus: FirewalldBus; runner: Runner },
  ruleSets: readonly RuleSet[],
  options: StoreOptions & DirectXmlOptions = {},
): Promise<PersistReport> {
  const entries = await prepare(deps.runner, ruleSets, options);
  const state = await deps.bus.state();
  if (state !== "RUNNING") {
    throw new FirewalldError(
      "not_running",
      state === null
        ? "firewalld is not running (not on the system bus)"
        : `firewalld is in state ${state}, not RUNNING; fix it (see \`firewall-cmd --state\` and its log) before storing rules`,
    );
  }
  const { bus } = deps;
  const previous = await bus.getPermanent();
  await refuseForeignJumps(bus, previous);
  const previousRuntime = await runtimeOurs(bus);
  const plan = planStore(previous, previousRuntime, entries);
  try {
    await applyPlan(bus, options.runtimeOnly ? { ...plan, permanent: null } : plan);
  } catch (e) {
    throw await rollBack(
      bus,
      previous,
      previousRuntime,
      e,
      options.directXmlPath ?? DEFAULT_DIRECT_XML_PATH,
      { permanent: !options.runtimeOnly },
    );
  }
  return {
    mechanism: "dbus",
    added: entries,
    removed: {
      permanent: options.runtimeOnly ? [] : permanentOurs(previous),
      runtime: previousRuntime,
      directXml: [],
    },
    ...(options.runtimeOnly ? { runtimeOnly: true } : {}),
  };
}

/** Our entries in a running firewalld's runtime direct config, for {@linkcode restoreRuntime}. */
export function runtimeEntries(bus: FirewalldBus): Promise<DirectEntry[]> {
  return runtimeOurs(bus);
}

/**
 * Puts our part of the runtime direct config back to `previous` (our
 * entries as {@linkcode runtimeEntries} read them), changing only what
 * differs; foreign entries and the permanent config are never touched.
 */
export async function restoreRuntime(
  bus: FirewalldBus,
  previous: readonly DirectEntry[],
): Promise<void> {
  const back = rollbackPlan(
    { chains: [], rules: [], passthroughs: [] },
    previous,
    await runtimeOurs(bus),
  );
  await applyRuntime(bus, back.runtime);
}

/**
 * Stores the rule sets in direct.xml for a stopped firewalld (applied at its
 * next start). Our old entries are replaced; the file is written atomically
 * with a backup. Throws `not-installed` when the config directory does not
 * exist and `malformed_direct_xml` (nothing written) for a broken file.
 */
export async function storeInDirectXml(
  deps: { runner: Runner },
  ruleSets: readonly RuleSet[],
  options: StoreOptions & DirectXmlOptions = {},
): Promise<PersistReport> {
  const path = options.directXmlPath ?? DEFAULT_DIRECT_XML_PATH;
  const entries = await prepare(deps.runner, ruleSets, options);
  if (!(await parentExists(path))) {
    throw new FirewalldError(
      "not_installed",
      `firewalld is not running and its config directory for ${path} does not exist; ` +
        "is firewalld installed? Nothing was changed.",
      { path },
    );
  }
  const text = await readDirectXmlFile(path);
  const edit = (await loadDirectXml()).editDirectXml(text, entries, path);
  if (edit.text !== text) await writeDirectXml(path, edit.text);
  return {
    mechanism: "direct.xml",
    added: entries,
    removed: { permanent: [], runtime: [], directXml: edit.removed },
    directXmlPath: path,
  };
}

/**
 * Whether a running firewalld already holds exactly the entries
 * `storeWithFirewalld` would store, permanent and runtime, so that a store
 * would change nothing: the plan it would apply (persist_plan.ts) leaves
 * the permanent config as it is and adds or removes no runtime entry.
 * Reads only; no validation (nothing is written).
 *
 * @example
 * ```ts ignore
 * if (await firewalldHolds(bus, ruleSets, { verbose: false })) console.log("nothing to store");
 * ```
 */
export async function firewalldHolds(
  bus: FirewalldBus,
  ruleSets: readonly RuleSet[],
  options: ToDirectEntriesOptions,
): Promise<boolean> {
  const entries = toDirectEntries(ruleSets, options);
  if (!entries.every(isOurEntry) || await bus.state() !== "RUNNING") return false;
  const previous = await bus.getPermanent();
  const plan = planStore(previous, await runtimeOurs(bus), entries);
  const same = (a: readonly DirectEntry[], b: readonly DirectEntry[]) =>
    a.length === b.length && a.every((x, i) => sameEntry(x, b[i]));
  return plan.runtime.add.length === 0 && plan.runtime.remove.length === 0 &&
    plan.permanent !== null && same(plan.permanent.chains, previous.chains) &&
    same(plan.permanent.rules, previous.rules);
}

/**
 * Whether direct.xml already holds what `storeInDirectXml` would write for
 * `ruleSets` (none: no entry of ours), so that the store would not rewrite
 * it: the file as it would be edited equals the file as it is. A file that
 * cannot be read or parsed does not hold it. Reads only.
 *
 * @example
 * ```ts ignore
 * const same = await directXmlHolds(ruleSets, { directXmlPath: "/etc/firewalld/direct.xml" });
 * ```
 */
export async function directXmlHolds(
  ruleSets: readonly RuleSet[],
  options: ToDirectEntriesOptions & DirectXmlOptions,
): Promise<boolean> {
  const path = options.directXmlPath ?? DEFAULT_DIRECT_XML_PATH;
  const entries = toDirectEntries(ruleSets, options);
  if (!entries.every(isOurEntry)) return false;
  try {
    const text = await readDirectXmlFile(path);
    if (text === null) return entries.length === 0;
    return (await loadDirectXml()).editDirectXml(text, entries, path).text === text;
  } catch (e) {
    if (e instanceof FirewalldError) return false;
    throw e;
  }
}

/**
 * Removes our entries: from the permanent and runtime config when firewalld
 * is on the bus, otherwise from direct.xml (a missing file or directory
 * means there is nothing to remove). Foreign entries stay as they were.
 */
export async function removeFromFirewalld(
  deps: { bus?: FirewalldBus },
  options: DirectXmlOptions = {},
): Promise<PersistReport> {
  const state = deps.bus ? await deps.bus.state() : null;
  if (deps.bus && state !== null) {
    const bus = deps.bus;
    const previous = await bus.getPermanent();
    await refuseForeignJumps(bus, previous);
    const runtime = await runtimeOurs(bus);
    const plan = planRemove(previous, runtime);
    await applyPlan(bus, plan);
    // firewalld rewrote direct.xml; an empty one is what a host without one had.
    const path = options.directXmlPath ?? DEFAULT_DIRECT_XML_PATH;
    const text = plan.permanent ? await readDirectXmlFile(path) : null;
    const permanent = permanentOurs(previous);
    if (text !== null && isEmptyDirectXml(text)) await removeDirectXmlFile(path);
    return { mechanism: "dbus", added: [], removed: { permanent, runtime, directXml: [] } };
  }
  const path = options.directXmlPath ?? DEFAULT_DIRECT_XML_PATH;
  const text = await readDirectXmlFile(path);
  const edit = text === null ? null : (await loadDirectXml()).editDirectXml(text, [], path);
  if (edit && edit.removed.length > 0) await writeDirectXml(path, edit.text);
  return {
    mechanism: "direct.xml",
    added: [],
    removed: { permanent: [], runtime: [], directXml: edit?.removed ?? [] },
    directXmlPath: path,
  };
}

/**
 * Refuses (a `foreign_jump` error) while a direct rule that is not ours
 * jumps to one of our chains: in the permanent and runtime config when
 * firewalld is on the bus, otherwise in direct.xml (foreign_jump.ts). The
 * CLI calls it before anything changes; the store and remove functions
 * above check again on what they read.
 */
export async function assertNoForeignJumps(
  deps: { bus?: FirewalldBus },
  options: DirectXmlOptions = {},
): Promise<void> {
  const state = deps.bus ? await deps.bus.state() : null;
  if (deps.bus && state !== null) {
    await refuseForeignJumps(deps.bus, await deps.bus.getPermanent());
    return;
  }
  const path = options.directXmlPath ?? DEFAULT_DIRECT_XML_PATH;
  const text = await readDirectXmlFile(path);
  if (text === null) return;
  const entries = (await loadDirectXml()).directXmlEntries(text, path);
  assertNoForeignJump(entries, { kind: "direct.xml", path });
}

async function refuseForeignJumps(bus: FirewalldBus, permanent: DirectConfig): Promise<void> {
  assertNoForeignJump(permanent.rules, { kind: "permanent" });
  assertNoForeignJump(await bus.getRuntimeRules(), { kind: "runtime" });
}

/** Our entries where firewalld keeps them, for `status`. */
export interface FirewalldState {
  /** firewalld's state on the bus, null when it is not there. */
  state: string | null;
  /** Our permanent entries (null when firewalld is not on the bus). */
  permanent: DirectEntry[] | null;
  /** Our runtime entries (null when firewalld is not on the bus). */
  runtime: DirectEntry[] | null;
  /** Our entries in direct.xml (null when the file does not exist). */
  directXml: DirectEntry[] | null;
  /** Why direct.xml could not be read, if it could not. */
  directXmlError?: string;
  /** The error's code: `malformed_direct_xml` (read but not parsed) or `io` (not read). */
  directXmlErrorCode?: FirewalldError["code"];
  directXmlPath: string;
}

/** Reports where our entries are: permanent and runtime config (firewalld on the bus) and direct.xml. */
export async function firewalldState(
  deps: { bus?: FirewalldBus },
  options: DirectXmlOptions = {},
): Promise<FirewalldState> {
  const directXmlPath = options.directXmlPath ?? DEFAULT_DIRECT_XML_PATH;
  const state = deps.bus ? await deps.bus.state() : null;
  let permanent: DirectEntry[] | null = null;
  let runtime: DirectEntry[] | null = null;
  if (deps.bus && state !== null) {
    permanent = permanentOurs(await deps.bus.getPermanent());
    runtime = await runtimeOurs(deps.bus);
  }
  let directXml: DirectEntry[] | null = null;
  let directXmlError: string | undefined;
  let directXmlErrorCode: FirewalldError["code"] | undefined;
  try {
    const text = await readDirectXmlFile(directXmlPath);
    directXml = text === null
      ? null
      : (await loadDirectXml()).directXmlEntries(text, directXmlPath).filter(isOurEntry);
  } catch (e) {
    if (!(e instanceof FirewalldError)) throw e;
    directXmlError = e.message;
    directXmlErrorCode = e.code;
  }
  return {
    state,
    permanent,
    runtime,
    directXml,
    directXmlError,
    directXmlErrorCode,
    directXmlPath,
  };
}

/** Translates, checks that every entry will be recognisable as ours later, and validates with iptables-restore. */
async function prepare(
  runner: Runner,
  ruleSets: readonly RuleSet[],
  options: StoreOptions,
): Promise<DirectEntry[]> {
  const entries = toDirectEntries(ruleSets, options);
  const unidentifiable = entries.filter((e) => !isOurEntry(e));
  if (unidentifiable.length > 0) {
    throw new FirewalldError(
      "unidentifiable_entry",
      `${unidentifiable.length} direct entries could not be told apart from foreign ones at uninstall ` +
        `(rule comments disabled, or a chain not named KUMA_MESH_*), so they are not stored: ` +
        describeEntry(unidentifiable[0]),
    );
  }
  await validateEntries(runner, entries, options.restoreCommands);
  return entries;
}

/** Our runtime entries, rules first (they must go before the chains they sit in or jump to). */
async function runtimeOurs(bus: FirewalldBus): Promise<DirectEntry[]> {
  const rules = oursOf(await bus.getRuntimeRules());
  const chains = oursOf(await bus.getRuntimeChains());
  return [...rules, ...chains];
}

/** Applies a plan: the permanent config first, then the runtime steps in the plan's order. */
async function applyPlan(bus: FirewalldBus, plan: PersistPlan): Promise<void> {
  await applyPermanent(bus, plan.permanent);
  await applyRuntime(bus, plan.runtime);
}

async function applyPermanent(bus: FirewalldBus, permanent: DirectConfig | null): Promise<void> {
  if (permanent) await bus.updatePermanent(permanent);
}

async function applyRuntime(bus: FirewalldBus, change: RuntimeChange): Promise<void> {
  for (const e of change.remove) {
    if (e.kind === "rule") await bus.removeRuntimeRule(e);
    else if (e.kind === "chain") await bus.removeRuntimeChain(e);
  }
  for (const e of change.add) {
    if (e.kind === "chain") await bus.addRuntimeChain(e);
    else if (e.kind === "rule") await bus.addRuntimeRule(e);
  }
}

/**
 * The direct.xml parser and editor, imported when there is a file to parse or
 * write: it loads sax (CommonJS), which a run without direct.xml never needs.
 */
function loadDirectXml(): Promise<typeof import("./direct_xml.ts")> {
  return import("./direct_xml.ts");
}

/**
 * Writes direct.xml, or removes it when it would hold nothing but an empty
 * `<direct>`: firewalld reads a missing file as an empty direct config
 * (firewall/core/io/direct.py), and a host that had none gets none back.
 */
async function writeDirectXml(path: string, text: string): Promise<void> {
  if (isEmptyDirectXml(text)) await removeDirectXmlFile(path);
  else await writeFileAtomic(path, text);
}

/** Whether firewalld has left the bus (a failing bus counts as gone). */
async function gone(bus: FirewalldBus): Promise<boolean> {
  try {
    return (await bus.state()) === null;
  } catch {
    return true;
  }
}

/**
 * firewalld left the bus after (or while) its permanent config was updated:
 * put our previous permanent entries back into direct.xml, which it reads at
 * its next start. Foreign entries were never changed by us, so the file's
 * foreign part is already the previous one.
 */
async function restorePermanentFile(
  previous: DirectConfig,
  path: string,
  why: string,
  cause: unknown,
): Promise<FirewalldError> {
  const ours = permanentOurs(previous);
  try {
    const text = await readDirectXmlFile(path);
    if (text !== null || ours.length > 0) {
      const edit = (await loadDirectXml()).editDirectXml(text, ours, path);
      if (edit.text !== text) await writeDirectXml(path, edit.text);
    }
  } catch (e) {
    const detail = e instanceof Error ? e.message : String(e);
    return new FirewalldError(
      "rollback_failed",
      `firewalld left the system bus while the rules were being stored (${why}), and restoring ` +
        `its previous permanent direct config in ${path} failed too (${detail}); ${path} may ` +
        "hold the new rules, which firewalld would apply at its next start: check it before " +
        "starting firewalld",
      { cause, path },
    );
  }
  return new FirewalldError(
    "firewalld_gone",
    `firewalld left the system bus while the rules were being stored (${why}). Permanent: its ` +
      `previous direct config was restored by rewriting ${path}, which firewalld applies at its ` +
      `next start (${ours.length} entries of ours, as before this install)`,
    { cause, path },
  );
}

/**
 * Applies the plan back to the permanent config and our runtime entries as
 * they were, each part even if the other fails; returns the error to throw.
 */
async function rollBack(
  bus: FirewalldBus,
  previous: DirectConfig,
  previousRuntime: readonly DirectEntry[],
  cause: unknown,
  directXmlPath: string,
  options: { permanent: boolean } = { permanent: true },
): Promise<FirewalldError> {
  const why = cause instanceof Error ? cause.message : String(cause);
  const failures: string[] = [];
  let back: PersistPlan = {
    permanent: options.permanent ? previous : null,
    runtime: { remove: [], add: [] },
  };
  try {
    back = rollbackPlan(previous, previousRuntime, await runtimeOurs(bus));
    if (!options.permanent) back = { ...back, permanent: null };
  } catch (e) {
    if (await gone(bus)) return restorePermanentFile(previous, directXmlPath, why, cause);
    failures.push(`runtime: ${e instanceof Error ? e.message : e}`);
  }
  try {
    await applyPermanent(bus, back.permanent);
  } catch (e) {
    if (await gone(bus)) return restorePermanentFile(previous, directXmlPath, why, cause);
    failures.push(`permanent: ${e instanceof Error ? e.message : e}`);
  }
  try {
    await applyRuntime(bus, back.runtime);
  } catch (e) {
    failures.push(`runtime: ${e instanceof Error ? e.message : e}`);
  }
  const details = {
    cause,
    ...(cause instanceof FirewalldError
      ? {
        operation: cause.operation,
        firewalldCode: cause.firewalldCode,
      }
      : {}),
  };
  if (failures.length === 0) {
    return new FirewalldError(
      "rejected",
      `firewalld rejected the rules (${why}); its previous direct configuration, permanent and runtime, was restored`,
      details,
    );
  }
  return new FirewalldError(
    "rollback_failed",
    `firewalld rejected the rules (${why}), and restoring its previous direct configuration failed too ` +
      `(${failures.join("; ")}); check \`firewall-cmd --direct --get-all-rules\` and ` +
      "`firewall-cmd --permanent --direct --get-all-rules`",
    details,
  );
}
