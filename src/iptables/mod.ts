/**
 * The iptables layer's public API: detect executables, probe what they can
 * do, apply a rule set all-or-nothing, uninstall, and read what is installed.
 * See README.md in this folder for the design.
 *
 * @module
 */
export * from "./errors.ts";
export {
  detectAllExecutables,
  detectExecutables,
  type DetectOptions,
  type Executables,
  type Mode,
  readDump,
} from "./executables.ts";
export { assertMinimumFunctionality, probeFunctionality } from "./functionality.ts";
export { type RestoreOptions, waitFlags } from "./restore_exec.ts";
export {
  ApplyError,
  type ApplyErrorCode,
  type ApplyOptions,
  applyPlans,
  type ApplyReport,
  type FamilyPlan,
  type FamilyReport,
  type RollbackResult,
} from "./transaction.ts";
export {
  type BackendRemoval,
  readInstalled,
  uninstallAll,
  UninstallError,
  type UninstallReport,
} from "./uninstall.ts";
export { parseSave, type SaveDump } from "./save_parser.ts";
