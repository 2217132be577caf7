/**
 * The README's Universal VM walkthrough ("One config for kuma-dp") as the
 * steps scripts/demo.ts runs, and the parser that reads them back from the
 * README, so that a test (tests/unit/scripts/walkthrough_test.ts) keeps the
 * two equal: the demo is the walkthrough, run.
 *
 * @module
 */

/** The line that introduces the walkthrough's code block in README.md. */
export const WALKTHROUGH_INTRO = "On a Universal VM, as root:";

/** What the demo does for a step. */
export type StepKind =
  /** Runs the command as written, with `sh -c`, as root in the VM. */
  | "run"
  /** kuma-dp itself: the demo starts the stand-in sidecar instead, on the file's ports. */
  | "kuma-dp";

export interface WalkthroughStep {
  /** The command as the README writes it, continuation lines joined. */
  command: string;
  kind: StepKind;
}

/** The config file the walkthrough writes and every later step reads. */
export const WALKTHROUGH_CONFIG = "/etc/kuma-tproxy/kuma-dp.yaml";

/** The walkthrough, in order. */
export const WALKTHROUGH: readonly WalkthroughStep[] = [
  {
    command: "useradd --system --no-create-home --shell /usr/sbin/nologin --uid 5678 kuma-dp",
    kind: "run",
  },
  { command: "mkdir -p /etc/kuma-tproxy", kind: "run" },
  {
    command: "kuma-tproxy config --kuma-dp-user kuma-dp --redirect-dns " +
      `--exclude-inbound-ports 22 --output ${WALKTHROUGH_CONFIG}`,
    kind: "run",
  },
  {
    command: `kuma-tproxy install --config ${WALKTHROUGH_CONFIG} --store-systemd`,
    kind: "run",
  },
  {
    command: "runuser -u kuma-dp -- kuma-dp run --cp-address https://CP:5678 " +
      "--dataplane-file dp.yaml --dataplane-token-file token " +
      `--transparent-proxy-config ${WALKTHROUGH_CONFIG} &`,
    kind: "kuma-dp",
  },
  { command: `kuma-tproxy verify --config ${WALKTHROUGH_CONFIG}`, kind: "run" },
];

/**
 * The commands of the first code block after {@link WALKTHROUGH_INTRO}, one
 * per command: a line ending in `\` continues on the next, and the two are
 * joined with one space.
 *
 * @example
 * ```ts
 * import { readmeWalkthrough } from "./walkthrough.ts";
 * const readme = "On a Universal VM, as root:\n\n```sh\na \\\n  b\nc\n```\n";
 * if (readmeWalkthrough(readme).join("|") !== "a b|c") throw new Error();
 * ```
 */
export function readmeWalkthrough(readme: string): string[] {
  const at = readme.indexOf(WALKTHROUGH_INTRO);
  if (at < 0) throw new Error(`README.md has no "${WALKTHROUGH_INTRO}"`);
  const block = readme.slice(at).match(/```sh\n([\s\S]*?)```/);
  if (!block) throw new Error(`README.md has no sh code block after "${WALKTHROUGH_INTRO}"`);
  return block[1].replace(/\s*\\\n\s*/g, " ").split("\n").map((l) => l.trim()).filter((l) =>
    l !== "" && !l.startsWith("#")
  );
}
