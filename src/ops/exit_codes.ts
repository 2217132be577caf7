/**
 * The one table of exit codes, for every command. Scripts branch on these,
 * so each outcome has its own code:
 *
 * - 1 stays "failed", as every kumactl command (cobra) and every shell
 *   convention has it: `kuma-tproxy install || alert` keeps working where
 *   `kumactl install transparent-proxy || alert` did.
 * - 2 is a usage or config error, as with getopt and commander: nothing ran.
 * - 3 and 4 are `status` answers, never failures: a status that could not
 *   look (not root, a config error) exits 1 and never reads as "not
 *   installed"; one that could read some backends and not others (no
 *   ip6tables, no nft with our nft install recorded) exits 3, since it can
 *   confirm neither "installed as configured" nor "nothing of ours".
 *   kumactl has no status command, so no script depends on other values.
 *
 * @module
 */

/** Exit codes shared by every command. */
export const EXIT = {
  OK: 0,
  FAILURE: 1,
  USAGE: 2,
  DRIFT: 3,
  NOT_INSTALLED: 4,
} as const;

/** One of {@link EXIT}'s values. */
export type ExitCode = typeof EXIT[keyof typeof EXIT];

/** What each code means, in code order: the `--help` footer and the README table. */
export const EXIT_MEANINGS: readonly { code: ExitCode; meaning: string }[] = [
  { code: EXIT.OK, meaning: "success (status: installed and matching the config)" },
  { code: EXIT.FAILURE, meaning: "failure: nothing or not everything was done (see stderr)" },
  { code: EXIT.USAGE, meaning: "usage or config error: nothing was changed" },
  { code: EXIT.DRIFT, meaning: "status: installed, but not as configured, or partly unreadable" },
  { code: EXIT.NOT_INSTALLED, meaning: "status: nothing of ours is installed" },
];

/**
 * The exit-code table as help text.
 *
 * @example
 * ```ts
 * import { exitCodesHelp } from "./exit_codes.ts";
 * if (!exitCodesHelp().includes("  4  status: nothing of ours is installed")) throw new Error();
 * ```
 */
export function exitCodesHelp(): string {
  return ["Exit codes:", ...EXIT_MEANINGS.map((e) => `  ${e.code}  ${e.meaning}`)].join("\n");
}
