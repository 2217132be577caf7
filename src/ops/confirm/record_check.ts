/**
 * Checks the shape of a pending record read back from /run (record.ts)
 * before anything acts on it: a record cut short by a full disk, edited by
 * hand or written by another kuma-tproxy must give one clear error, never a
 * TypeError half-way through a rollback or an "Invalid time value" from a
 * deadline that is not a number. Only what the rollback, confirm and status
 * read is checked; the saves' rule lines are iptables-save's own text. Pure.
 *
 * @module
 */
const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const isTime = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

/** The first thing wrong with `value` as a record, or undefined when it is one. */
function problem(value: unknown): string | undefined {
  if (!isObject(value)) return "not a JSON object";
  const r = value;
  if (r.version !== 1) return `version ${JSON.stringify(r.version) ?? "missing"}, not 1`;
  if (typeof r.id !== "string" || r.id === "") return "no id";
  for (const k of ["startedAt", "deadline", "timeoutMs"]) {
    if (!isTime(r[k])) return `${k} is not a time`;
  }
  if (r.backend !== "iptables" && r.backend !== "nftables") return "backend is not known";
  if (typeof r.applied !== "boolean") return "applied is not true or false";
  if (r.confirmed !== undefined && typeof r.confirmed !== "boolean") {
    return "confirmed is not true or false";
  }
  if (r.watcherPid !== undefined && !(Number.isSafeInteger(r.watcherPid))) {
    return "watcherPid is not a number";
  }
  if (!isObject(r.iptables) || !Array.isArray(r.iptables.states)) return "no iptables saves";
  for (const s of r.iptables.states as unknown[]) {
    const exe = isObject(s) && isObject(s.plan) ? s.plan.exe : undefined;
    if (
      !isObject(s) || !isObject(exe) ||
      !["iptables", "save", "restore"].every((k) => typeof exe[k] === "string") ||
      (exe.mode !== "nft" && exe.mode !== "legacy") || (exe.family !== 4 && exe.family !== 6) ||
      !isObject(s.before) || !Array.isArray(s.before.tables)
    ) return "an iptables save is damaged";
  }
  if (
    r.nft !== undefined &&
    !(isObject(r.nft) && typeof r.nft.path === "string" &&
      (r.nft.before === null || typeof r.nft.before === "string"))
  ) return "the nft table is damaged";
  if (!isObject(r.restore)) return "no restore options";
  const p = r.persist;
  if (
    !isObject(p) || !Array.isArray(p.targets) || typeof p.removeUnit !== "boolean" ||
    !p.targets.every((t) => isObject(t) && typeof t.name === "string" && typeof t.want === "string")
  ) return "what confirm stores is damaged";
  if (r.firewalld !== undefined && !(isObject(r.firewalld) && Array.isArray(r.firewalld.runtime))) {
    return "firewalld's runtime entries are damaged";
  }
  if (typeof r.config !== "string") return "no config";
  return undefined;
}

/**
 * Throws an Error saying what is wrong when `value` is not a record
 * (record.ts's PendingRecord, not imported: record.ts calls this).
 *
 * @example
 * ```ts
 * import { checkRecord } from "./record_check.ts";
 * let message = "";
 * try {
 *   checkRecord({ version: 1, id: "x", deadline: "soon" });
 * } catch (e) {
 *   message = (e as Error).message;
 * }
 * if (message !== "startedAt is not a time") throw new Error(message);
 * ```
 */
export function checkRecord(value: unknown): void {
  const wrong = problem(value);
  if (wrong) throw new Error(wrong);
}
