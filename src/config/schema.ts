/**
 * The one schema for every setting of kumactl K1 (docs/kumactl.md#k1). Its input is the merged
 * raw settings of all sources (YAML values, env and flag strings); its output
 * is the parsed {@link Config}. Each leaf accepts every form a source can
 * produce (a port as 80 or "80", a list as [80, "443,8080"] or "80,443") and
 * parses it through `values.ts` into the structured value the builders use.
 * A leaf whose parsed value is not its written form also names its
 * formatter ({@link formatOf}), which `kuma-tproxy config` uses to write the
 * value back.
 *
 * Problems carry `params` ({reason, expected, value, configCode}) so that
 * `resolve.ts` can turn them into {@link ConfigError}s.
 *
 * @module
 */
import { z } from "zod";
import type { Config, ExecutableName } from "./types.ts";
import {
  formatDuration,
  formatUidExclusion,
  formatVnet,
  type IpNet,
  MAX_LIST_ITEMS,
  parseBool,
  parseDurationMs,
  parseIpOrCidr,
  parseKumaDpUser,
  parsePort,
  parseUidExclusion,
  parseVnet,
  ValueError,
} from "./values.ts";

// zod 4 compiles a fast pass for each object schema with `new Function` on
// its first parse (the `$ZodObjectJIT` parse in zod's v4/core/schemas.js,
// skipped under `globalConfig.jitless`). The CLI parses once per run, so that
// compile is pure start-up cost: about 14 of a 21 ms first parse (issue 11,
// bench/README.md). The interpreted parse gives the same results and issues.
z.config({ jitless: true });

/** Extra data on a schema issue, read by resolve.ts. */
export interface IssueParams {
  reason: string;
  expected: string;
  value?: unknown;
  /** Set for problems that are not plain bad values ("unsupported"). */
  configCode?: "unsupported";
}

type Ctx = z.RefinementCtx;

function report(ctx: Ctx, input: unknown, params: IssueParams, path: (string | number)[] = []) {
  ctx.issues.push({
    code: "custom",
    message: `${params.reason} (expected ${params.expected})`,
    input,
    path,
    params,
  });
}

/** A leaf: any input, checked and normalised by `parse`, which throws ValueError. */
function leaf<T>(parse: (input: unknown) => T) {
  return z.unknown().transform((input, ctx): T => {
    try {
      return parse(input);
    } catch (e) {
      if (!(e instanceof ValueError)) throw e;
      report(ctx, input, { reason: e.reason, expected: e.expected, value: e.value });
      return z.NEVER;
    }
  });
}

/** How a list setting is written: one rule for every list (README, "Value formats"). */
interface ListFormat<T> {
  /** Splits a whole string value (an env var, a flag, a YAML string) into entries. */
  splitString(s: string): string[];
  /** Splits one string item of a YAML list, which may hold several entries. */
  splitItem(s: string): string[];
  /** Parses one entry; throws ValueError. */
  parse(entry: string | number): T;
  /** How the entries are written, for the message about an empty one. */
  entries: string;
  /**
   * Skip empty entries (`22,,23`, `22,`, `[22, ""]`) as kumactl does for
   * ports and IPs; otherwise an empty entry is an error.
   */
  skipEmpty: boolean;
}

/**
 * A list leaf: a YAML list whose items may each hold several entries, or
 * one string. An empty or blank string is the empty list (how an env var or
 * flag clears a list). Any other empty entry (`22,,23`, `22,`, `[22, ""]`)
 * is skipped where kumactl skips it (ports: kuma
 * pkg/transparentproxy/config/config.go `Ports.append`, reached from flags,
 * env vars and files alike; IPs: utils.go `parseCommaSeparatedStrings`) and
 * an error elsewhere (`format.skipEmpty`). More than MAX_LIST_ITEMS entries
 * are refused before any is parsed.
 */
function list<T>(format: ListFormat<T>) {
  return z.unknown().transform((input, ctx): T[] => {
    if (input === null || input === undefined) return [];
    if (typeof input === "string" && input.trim() === "") return [];
    if (typeof input !== "string" && !Array.isArray(input)) {
      report(ctx, input, { reason: "is not a list", expected: "a list or a comma string" });
      return z.NEVER;
    }
    // Each entry with the YAML item it came from, so a file error names the item's line.
    const entries: { entry: unknown; item?: number; whole: unknown }[] = [];
    if (typeof input === "string") {
      for (const entry of format.splitString(input)) entries.push({ entry, whole: input });
    } else {
      for (let i = 0; i < input.length && entries.length <= MAX_LIST_ITEMS; i++) {
        const item: unknown = input[i];
        if (typeof item !== "string") entries.push({ entry: item, item: i, whole: item });
        else {for (const entry of format.splitItem(item)) {
            entries.push({ entry, item: i, whole: item });
          }}
      }
    }
    if (entries.length > MAX_LIST_ITEMS) {
      const count = typeof input === "string"
        ? entries.length
        : input.length > MAX_LIST_ITEMS
        ? input.length
        : undefined;
      report(ctx, undefined, {
        reason: count === undefined
          ? `has more entries than the limit of ${MAX_LIST_ITEMS}`
          : `has ${count} entries, more than the limit of ${MAX_LIST_ITEMS}`,
        expected: `at most ${MAX_LIST_ITEMS} entries`,
      });
      return z.NEVER;
    }
    const out: T[] = [];
    let failed = false;
    const emptyIn = new Set<unknown>();
    for (const { entry, item, whole } of entries) {
      try {
        if (typeof entry === "string" && entry.trim() === "") {
          if (format.skipEmpty || emptyIn.has(whole)) continue;
          emptyIn.add(whole);
          throw new ValueError(String(whole), "has an empty entry", format.entries);
        }
        out.push(
          format.parse(typeof entry === "number" ? entry : scalarText(entry, format.entries)),
        );
      } catch (e) {
        if (!(e instanceof ValueError)) throw e;
        failed = true;
        const at = item === undefined ? [] : [item];
        report(ctx, entry, { reason: e.reason, expected: e.expected, value: e.value }, at);
      }
    }
    return failed ? z.NEVER : out;
  });
}

function scalarText(input: unknown, expected: string): string {
  if (typeof input === "string") return input;
  // YAML has no idea a field is a string: `kumaDPUser: 5678` arrives as a number.
  if (typeof input === "number" || typeof input === "boolean") return String(input);
  throw new ValueError(JSON.stringify(input) ?? String(input), "is not a string", expected);
}

function typed(input: unknown, expected: string, reason: string): string | number {
  if (typeof input === "string" || typeof input === "number") return input;
  throw new ValueError(JSON.stringify(input) ?? String(input), reason, expected);
}

/**
 * The YAML/JSON type a leaf's value must have in a config document: kumactl
 * decodes documents into Go's bool and integer fields, so `port: "15006"`
 * and `enabled: "true"` fail there. Env vars and flags are text by nature
 * and are parsed. Read by keys.ts (LEAF_DOCUMENT_TYPES) and document.ts.
 */
export type DocumentType = "number" | "boolean";
const documentTypes = new WeakMap<z.ZodType, DocumentType>();

function inDocuments<S extends z.ZodType>(type: DocumentType, schema: S): S {
  documentTypes.set(schema, type);
  return schema;
}

/** The type a leaf schema needs in documents, if it is not free-form. */
export function documentTypeOf(schema: unknown): DocumentType | undefined {
  return documentTypes.get(schema as z.ZodType);
}

/** Writes a parsed leaf value back in the form a config document takes. */
export type LeafFormat = (value: never) => unknown;
const formats = new WeakMap<z.ZodType, LeafFormat>();

function formatted<S extends z.ZodType>(format: (value: z.output<S>) => unknown, schema: S): S {
  formats.set(schema, format as LeafFormat);
  return schema;
}

/** How a leaf schema's parsed value is written back, if not as it is. */
export function formatOf(schema: unknown): LeafFormat | undefined {
  return formats.get(schema as z.ZodType);
}

const bool = inDocuments(
  "boolean",
  leaf((v) =>
    typeof v === "boolean"
      ? v
      : parseBool(typeof v === "number" ? String(v) : scalarText(v, "true or false"))
  ),
);

const port = inDocuments("number", leaf((v) => parsePort(typed(v, "1-65535", "is not a port"))));

function uint(max: number, what: string) {
  return inDocuments(
    "number",
    leaf((v) => {
      const raw = typed(v, `an integer from 0 to ${max}`, `is not ${what}`);
      const text = String(raw).trim();
      if (!/^[0-9]+$/.test(text) || Number(text) > max) {
        throw new ValueError(text, `is not ${what}`, `an integer from 0 to ${max}`);
      }
      return Number(text);
    }),
  );
}

const text = leaf((v) => scalarText(v, "a string"));

const commaSplit = (s: string) => s.split(",");

const ports = list({
  splitString: commaSplit,
  splitItem: commaSplit,
  parse: parsePort,
  entries: "ports 1-65535 separated by commas, like 22,80",
  skipEmpty: true,
});

/** A comma-separated list whose parsed entries are each written back by `format`. */
function commaList<T>(
  parse: (entry: string) => T,
  format: (entry: T) => string,
  entries: string,
  skipEmpty: boolean,
) {
  return formatted(
    (items: T[]) => items.map(format),
    list({
      splitString: commaSplit,
      splitItem: commaSplit,
      parse: (e) => parse(String(e)),
      entries,
      skipEmpty,
    }),
  );
}

const ips = commaList(
  parseIpOrCidr,
  (net: IpNet) => net.text,
  "IPs or CIDRs separated by commas, like 10.0.0.1,192.168.0.0/16",
  true,
);

const uids = formatted(
  (entries) => entries.map(formatUidExclusion),
  list({
    /**
     * kumactl splits the env var on `,`, which makes port lists impossible to
     * pass; the Kubernetes annotation uses `;`. We split on `;` whenever one is
     * present, else on `,` (kumactl compatible).
     */
    splitString: (s) => s.split(s.includes(";") ? ";" : ","),
    // A YAML item is one entry (its ports may hold commas), or several joined by `;`.
    splitItem: (s) => s.split(";"),
    parse: (entry) => parseUidExclusion(String(entry)),
    entries: "[proto:][ports:]uids entries separated by ; (or , without port lists)",
    // kumactl reads an empty entry as "every port, any UID" and returns all
    // outbound traffic unredirected (utils.go parseExcludePortsForUIDs).
    skipEmpty: false,
  }),
);

const vnets = commaList(
  parseVnet,
  formatVnet,
  "iface:CIDR entries separated by single commas, like docker0:172.17.0.0/16",
  // kumactl refuses an empty vnet (config.go VNet.Initialize).
  false,
);

const duration = formatted(
  formatDuration,
  leaf((v) => parseDurationMs(typed(v, 'a duration like "2s"', "is not a duration"))),
);

const ipFamilyMode = leaf((v) => {
  // kumactl matches case-insensitively but compares case-sensitively later,
  // so "IPv4" left IPv6 on (kumactl quirk K8.3, docs/kumactl.md#k8-3); we normalise instead.
  const t = scalarText(v, "dualstack or ipv4").trim().toLowerCase();
  if (t === "" || t === "dualstack") return "dualstack" as const;
  if (t === "ipv4") return "ipv4" as const;
  throw new ValueError(String(v), "is not an IP family mode", "dualstack or ipv4");
});

const backend = leaf((v) => {
  const t = scalarText(v, "iptables or nftables").trim().toLowerCase();
  if (t === "" || t === "iptables") return "iptables" as const;
  if (t === "nftables") return "nftables" as const;
  throw new ValueError(String(v), "is not a rule backend", "iptables or nftables");
});

/**
 * Chains are named KUMA_MESH_<name>, and iptables limits chain names to 28
 * characters (XT_EXTENSION_MAXNAMELEN - 1), which leaves 18 for the name.
 */
const chainName = leaf((v) => {
  const t = scalarText(v, "a chain name").trim();
  if (!/^[A-Z0-9_]{1,18}$/.test(t)) {
    throw new ValueError(t, "is not a chain name", "1-18 characters of A-Z, 0-9 and _");
  }
  return t;
});

function traffic() {
  return z.strictObject({
    enabled: bool,
    port,
    includePorts: ports,
    excludePorts: ports,
    excludePortsForIPs: ips,
    excludePortsForUIDs: uids,
    insertRedirectInsteadOfAppend: bool,
    chainName,
    redirectChainName: chainName,
  });
}

const executable = text.optional();

const executables: Record<ExecutableName, typeof executable> = {
  iptables: executable,
  "iptables-save": executable,
  "iptables-restore": executable,
  ip6tables: executable,
  "ip6tables-save": executable,
  "ip6tables-restore": executable,
};

/** Executable names accepted under `iptablesExecutables`. */
export const EXECUTABLE_NAMES = Object.keys(executables) as ExecutableName[];

const shape = z.strictObject({
  kumaDPUser: leaf((v) => parseKumaDpUser(scalarText(v, "a user name or a UID"))),
  ipFamilyMode,
  backend,
  redirect: z.strictObject({
    inbound: traffic(),
    outbound: traffic(),
    dns: z.strictObject({
      enabled: bool,
      captureAll: bool,
      port,
      skipConntrackZoneSplit: bool,
      resolvConfigPath: text,
    }),
    vnet: z.strictObject({ networks: vnets }),
  }),
  dropInvalidPackets: bool,
  storeFirewalld: bool,
  storeSystemd: bool,
  allowFirewalldFlush: bool,
  verbose: bool,
  dryRun: bool,
  wait: uint(2 ** 32 - 1, "a number of seconds"),
  waitInterval: uint(2 ** 32 - 1, "a number of microseconds"),
  retry: z.strictObject({
    maxRetries: uint(2 ** 32 - 1, "a retry count"),
    sleepBetweenRetries: duration,
  }),
  log: z.strictObject({ enabled: bool, level: uint(7, "a log level") }),
  comments: z.strictObject({ disabled: bool }),
  iptablesExecutables: z.strictObject(executables),
  cniMode: bool,
  ebpf: z.strictObject({
    enabled: bool,
    instanceIP: text,
    instanceIPEnvVarName: text,
    bpffsPath: text,
    cgroupPath: text,
    programsSourcePath: text,
    tcAttachIface: text,
  }),
});

/** The object shape, walked by `keys.ts` to list the settings. */
export const CONFIG_SHAPE = shape;

function unsupported(ctx: Ctx, path: string[], input: unknown, reason: string, expected: string) {
  report(ctx, input, { reason, expected, value: input, configCode: "unsupported" }, path);
}

/**
 * Validates raw merged settings into a {@link Config}. Settings that kumactl
 * has but kuma-tproxy deliberately does not implement fail with
 * `configCode: "unsupported"`.
 *
 * @example
 * ```ts
 * import { configSchema } from "./schema.ts";
 * import { defaultConfig } from "./defaults.ts";
 * // The input is in document form: a duration is written ("2s"), not in milliseconds.
 * const raw = { ...defaultConfig(), retry: { maxRetries: 4, sleepBetweenRetries: "2s" }, ipFamilyMode: "IPv4" };
 * if (configSchema.parse(raw).ipFamilyMode !== "ipv4") throw new Error();
 * ```
 */
export const configSchema: z.ZodType<Config, unknown> = shape.superRefine((c, ctx) => {
  if (c.cniMode === true) {
    unsupported(
      ctx,
      ["cniMode"],
      true,
      "is not supported by kuma-tproxy: CNI mode belongs to the Kubernetes CNI plugin",
      "false",
    );
  }
  if (c.ebpf?.enabled === true) {
    unsupported(
      ctx,
      ["ebpf", "enabled"],
      true,
      "is not supported by kuma-tproxy: eBPF redirection was removed from Kuma",
      "false; use the iptables redirection",
    );
  }
  const inboundUids = c.redirect?.inbound?.excludePortsForUIDs;
  if (Array.isArray(inboundUids) && inboundUids.length > 0) {
    // kumactl turns each entry into a match-less `-j RETURN` that disables
    // inbound redirection entirely (kumactl quirk K8.4, docs/kumactl.md#k8-4);
    // an owner match cannot see inbound traffic anyway, so there is nothing
    // correct to build.
    unsupported(
      ctx,
      ["redirect", "inbound", "excludePortsForUIDs"],
      inboundUids,
      "is not supported by kuma-tproxy: inbound traffic has no owning UID, and kumactl's " +
        "version disabled inbound redirection entirely",
      "an empty list; use redirect.inbound.excludePorts or excludePortsForIPs",
    );
  }
});
