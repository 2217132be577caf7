/**
 * Shared by the install benchmarks: the rule text of `install --dry-run`,
 * split by family, and the 1,000-exclusion config.
 *
 * @module
 */

/** The two halves of `install --dry-run` output. */
export interface RuleText {
  v4: string;
  v6: string;
}

export function splitDryRun(text: string): RuleText {
  const v4At = text.indexOf("### IPv4 ###");
  const v6At = text.indexOf("### IPv6 ###");
  if (v4At < 0 || v6At < 0) {
    throw new Error("install --dry-run printed no '### IPv4 ###' and '### IPv6 ###' sections");
  }
  return {
    v4: text.slice(v4At + "### IPv4 ###".length, v6At).trim() + "\n",
    v6: text.slice(v6At + "### IPv6 ###".length).trim() + "\n",
  };
}

export const countRules = (t: string) => t.split("\n").filter((l) => /^-[AI] /.test(l)).length;

/** 1,000 exclusions, split between excludePorts and excludePortsForIPs, inbound and outbound. */
export function thousandExclusions(): string {
  const ips = (net: number) =>
    Array.from(
      { length: 250 },
      (_, i) =>
        i % 2
          ? `10.${net}.${i >> 8}.${i & 255}`
          : `fd${net.toString(16).padStart(2, "0")}::${i.toString(16)}`,
    );
  const ports = (from: number) => Array.from({ length: 250 }, (_, i) => from + i);
  return JSON.stringify({
    redirect: {
      inbound: { excludePorts: ports(20000), excludePortsForIPs: ips(1) },
      outbound: { excludePorts: ports(30000), excludePortsForIPs: ips(2) },
    },
  });
}
