/**
 * Everything the commands need from the process and the host, injected so
 * that install, uninstall and status (and the CLI above them, as `CliIo`)
 * run in tests with in-memory streams. Only src/main.ts builds the real one.
 */
import type { FirewalldBus } from "../firewalld/bus.ts";
import type { HostFacts } from "../host/facts.ts";
import type { Runner } from "../os/runner.ts";
import type { BootDirs } from "../systemd/layout.ts";
import type { ReportRecorder } from "./report.ts";

export interface OpsIo {
  /** Writes to stdout: results only. Never throws (output.ts). */
  out(text: string): void;
  /** Writes to stderr: messages, warnings, errors. Never throws. */
  err(text: string): void;
  /** The error that stopped stdout, if one did (output.ts); in-memory streams have none. */
  outFailure?(): Error | undefined;
  env: Record<string, string>;
  /**
   * Reads stdin (`--config -`) and config files. Both refuse more than
   * MAX_INPUT_BYTES and invalid UTF-8, and readFile refuses anything but a
   * regular file (os/bounded_read.ts), so a config can never be /dev/zero.
   */
  readStdin(): Promise<string>;
  readFile(path: string): Promise<string>;
  /** Effective UID of the process. */
  uid(): number;
  runner: Runner;
  facts: HostFacts;
  /** A (lazily connecting) client for firewalld on the system bus. */
  connectFirewalld(): Promise<FirewalldBus>;
  /** firewalld's config directory: /etc/firewalld. */
  firewalldDir: string;
  /**
   * Boot persistence: the unit and config directories (/etc/systemd/system,
   * /etc/kuma-tproxy) and systemd's runtime directory (/run/systemd/system).
   */
  boot: BootDirs & { runtimeDir: string };
  /**
   * How a systemd unit starts this same program, by absolute path: the
   * binary itself when compiled, scripts/kuma-tproxy when run from source.
   */
  selfCommand: string[];
  /** The lock that keeps two runs apart (run_lock.ts): /run/kuma-tproxy.lock. */
  lockPath: string;
  /** The record of an nftables install since boot (nft_marker.ts): /run/kuma-tproxy.nft-installed. */
  nftMarkerPath: string;
  /** Where a pending install's record lives (confirm/record.ts): /run/kuma-tproxy when unset. */
  confirmDir?: string;
  /** Registers a handler for SIGINT/SIGTERM; returns a function that removes it. */
  onInterrupt(handler: () => void): () => void;
  /**
   * Asks `question` on the terminal and returns the line typed, or undefined
   * when nothing was typed within `timeoutMs`. Only when stdin is a terminal
   * (install --confirm-timeout's prompt, confirm/prompt.ts).
   */
  ask?(question: string, timeoutMs: number): Promise<string | undefined>;
  /** Where install and uninstall record their result as data (report.ts); set by dispatch.ts. */
  report?: ReportRecorder;
}
