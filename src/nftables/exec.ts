/**
 * The nft commands of the backend, all through the injected `Runner`: find
 * nft, prove the kernel can do what the script needs before anything
 * changes, read our table as JSON, apply a script as one transaction.
 *
 * @module
 */
import type { Runner } from "../os/runner.ts";
import { DEFAULT_PATH_DIRS } from "../os/search_path.ts";
import { NftError } from "./errors.ts";
import { describeNftExit } from "./outcome.ts";
import { foreignObjects, notOursBecause, tableNotOurs } from "./ownership.ts";
import { NFT_TABLE, renderNftDelete } from "./script.ts";
import { type NftTableState, parseNftJson } from "./state.ts";

/** nft via PATH, then at the standard directories (the same as for iptables). */
export const NFT_CANDIDATES: readonly string[] = [
  "nft",
  ...DEFAULT_PATH_DIRS.map((d) => `${d}/nft`),
];

/**
 * The first nft that answers `--version` like nftables does.
 *
 * @example
 * ```ts ignore
 * const nft = await findNft(runner); // "nft"
 * ```
 */
export async function findNft(runner: Runner): Promise<string> {
  for (const path of NFT_CANDIDATES) {
    try {
      const r = await runner.run(path, ["--version"]);
      if (r.code === 0 && /^nftables v\d/m.test(r.stdout)) return path;
    } catch {
      // could not start: not there
    }
  }
  throw new NftError(
    "not_found",
    "the nftables backend needs the nft command (Debian/RHEL package nftables); none answered " +
      `in PATH or at ${DEFAULT_PATH_DIRS.join(", ")}: install it, or use --backend iptables. ` +
      "Nothing was changed.",
  );
}

async function nft(runner: Runner, path: string, args: string[], stdin?: string) {
  const r = await runner.run(path, args, stdin === undefined ? {} : { stdin });
  if (
    r.code !== 0 && /Operation not permitted/i.test(r.stderr) && !/Could not process/.test(r.stderr)
  ) {
    throw new NftError("permission", `${path} needs root privileges (CAP_NET_ADMIN)`, r.stderr);
  }
  return r;
}

/** A table with a nat chain in the inet family: what kernels before 5.2 refuse. */
const INET_NAT_PROBE = `table ${NFT_TABLE.family} ${NFT_TABLE.name}_probe {
\tchain probe {
\t\ttype nat hook output priority -100; policy accept;
\t}
}
`;

/**
 * Proves, without changing anything (`nft --check` makes the kernel validate
 * the batch, then aborts it), that the kernel has nat in inet tables (Linux
 * 5.2, commit "netfilter: nat: add inet family nat support"; RHEL 8 kernels
 * only with the backport) and then that it accepts the whole script: a
 * missing module (nft_redir, nft_ct, nft_log, ...) shows up here.
 *
 * @example
 * ```ts ignore
 * await checkNftScript(runner, "nft", script);
 * ```
 */
export async function checkNftScript(runner: Runner, path: string, script: string): Promise<void> {
  const probe = await nft(runner, path, ["--check", "-f", "-"], INET_NAT_PROBE);
  if (probe.code !== 0) {
    throw new NftError(
      "no_inet_nat",
      "this kernel cannot do nat in nftables inet tables (needs Linux 5.2+, or a RHEL 8 kernel " +
        `with the backport); nothing was changed: use --backend iptables. nft said: ${probe.stderr.trim()}`,
      probe.stderr,
    );
  }
  const check = await nft(runner, path, ["--check", "-f", "-"], script);
  if (check.code !== 0) {
    const module = /Could not process rule: (No such file or directory|Operation not supported)/i
      .test(check.stderr);
    throw new NftError(
      module ? "missing_module" : "rejected",
      (module
        ? "the kernel rejected the rule set, most likely for a missing nftables module " +
          "(nft_redir, nft_ct, nft_log, nf_nat); "
        : "nft rejected the rule set; ") +
        `nothing was changed. nft said: ${check.stderr.trim()}`,
      check.stderr,
    );
  }
}

/**
 * Our table, if the kernel has one named like it. `notOurs` says why a table
 * of that name cannot be proven ours; callers must then leave it alone.
 *
 * @example
 * ```ts ignore
 * const { table, notOurs } = await readOurTable(runner, "nft");
 * ```
 */
export async function readOurTable(
  runner: Runner,
  path: string,
): Promise<{ table?: NftTableState; notOurs?: string }> {
  const tables = await nft(runner, path, ["-j", "list", "tables", NFT_TABLE.family]);
  if (tables.code !== 0) {
    throw new NftError(
      "rejected",
      `cannot list nft tables: ${tables.stderr.trim()}`,
      tables.stderr,
    );
  }
  if (!parseNftJson(tables.stdout).some((t) => t.name === NFT_TABLE.name)) return {};
  const r = await nft(runner, path, ["-j", "list", "table", NFT_TABLE.family, NFT_TABLE.name]);
  if (r.code !== 0) {
    // Deleted between the two calls: there is none.
    if (/No such file or directory/.test(r.stderr)) return {};
    throw new NftError("rejected", `cannot list our nft table: ${r.stderr.trim()}`, r.stderr);
  }
  const table = parseNftJson(r.stdout).find((t) => t.name === NFT_TABLE.name);
  if (table === undefined) return {};
  return { table, notOurs: notOursBecause(table) };
}

/**
 * Refuses to touch a table that carries our name but cannot be proven ours,
 * or that holds anything we did not write (ownership.ts): deleting the
 * table would delete that too. Names each such object with the command that
 * deletes it, so the operator can move it to a table of their own first.
 */
export function assertOurs(found: { table?: NftTableState; notOurs?: string }): void {
  if (!found.table || !found.notOurs) return;
  const table = `${NFT_TABLE.family} ${NFT_TABLE.name}`;
  const foreign = tableNotOurs(found.table) ? [] : foreignObjects(found.table);
  throw new NftError(
    "not_ours",
    `an nft table ${table} exists, but ${found.notOurs}: it is left alone. ` +
      (foreign.length > 0
        ? "Move what is not ours to a table of your own, or delete it " +
          `(${foreign.map((o) => o.remove).join("; ")}), then run again; `
        : "") +
      `if the whole table is a leftover, remove it yourself (nft delete table ${table})`,
  );
}

/**
 * Runs a script with `nft -f -`: one transaction, all of it or nothing. A
 * failure says nothing about what the kernel holds: nft may die after the
 * commit (outcome.ts), so callers read our table again before they report.
 *
 * @example
 * ```ts ignore
 * await runNftScript(runner, "nft", script);
 * ```
 */
export async function runNftScript(runner: Runner, path: string, script: string): Promise<void> {
  const r = await nft(runner, path, ["-f", "-"], script);
  if (r.code !== 0) {
    const stderr = r.stderr.trim();
    throw new NftError(
      "rejected",
      `nft -f failed (${describeNftExit(r.code)})${stderr ? `: ${stderr}` : ""}`,
      r.stderr,
      r.code,
    );
  }
}

/**
 * The text of our table as nft lists it, to re-apply verbatim when a later
 * step must be undone. It is never parsed: state comes from JSON.
 */
export async function saveOurTable(runner: Runner, path: string): Promise<string> {
  const r = await nft(runner, path, ["list", "table", NFT_TABLE.family, NFT_TABLE.name]);
  if (r.code !== 0) {
    throw new NftError("rejected", `cannot save our nft table: ${r.stderr.trim()}`, r.stderr);
  }
  return r.stdout;
}

/**
 * Deletes our table, and only after proving it ours. Returns how many rules
 * and chains it held (0 rules: there was none). `known` is what
 * {@linkcode readOurTable} said, when the caller read it with nothing
 * changed since.
 *
 * @example
 * ```ts ignore
 * const { removed } = await removeOurTable(runner, "nft", { dryRun: false });
 * ```
 */
export async function removeOurTable(
  runner: Runner,
  path: string,
  options: { dryRun: boolean },
  known?: { table?: NftTableState; notOurs?: string },
): Promise<{ removed: number; chains: number }> {
  const found = known ?? await readOurTable(runner, path);
  if (!found.table) return { removed: 0, chains: 0 };
  assertOurs(found);
  if (!options.dryRun) {
    try {
      await runNftScript(runner, path, renderNftDelete());
    } catch (e) {
      if (!(e instanceof NftError)) throw e;
      // nft may die after the kernel committed the delete (outcome.ts): read before reporting.
      const after = await readOurTable(runner, path).catch(() => undefined);
      if (after?.table !== undefined || after === undefined) {
        throw new NftError(
          e.code,
          `${e.message}; ${
            after ? "our table is still there" : "our table could not be read back"
          }`,
          e.stderr,
          e.exitCode,
        );
      }
    }
  }
  return { removed: found.table.rules.length, chains: found.table.chains.length };
}
