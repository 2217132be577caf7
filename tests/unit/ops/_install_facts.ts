/**
 * The facts of the plainest install (iptables, no firewalld, no persistence,
 * something to change), which each case of the install program's tests
 * varies.
 */
import type { InstallFacts } from "../../../src/ops/install_program.ts";

export const BASE_FACTS: InstallFacts = {
  backend: "iptables",
  firewalld: "absent",
  storeFirewalld: false,
  bootUnit: "leave",
  staleEntries: "none",
  dryRun: false,
  current: "differs",
};
