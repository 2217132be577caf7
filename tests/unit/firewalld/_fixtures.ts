/**
 * Hand-built rule sets and a stand-in for src/rules/render.ts `ruleArgs()`
 * (which another change brings), shared by the firewalld unit and
 * integration tests. The nat table follows kumactl's default install.
 */
import { fullComment } from "../../../src/rules/comment.ts";
import {
  type Family,
  OPTION_FORMS,
  type Param,
  type Rule,
  type RuleSet,
} from "../../../src/rules/model.ts";
import type { RuleArgs } from "../../../src/firewalld/direct_entries.ts";

/** Renders params in order (`! --opt value` when negated), then the comment match. */
export const stubRuleArgs: RuleArgs = (rule, { verbose, comments }) => {
  const args: string[] = [];
  for (const p of rule.params) {
    if (p.negate) args.push("!");
    args.push(OPTION_FORMS[p.name]?.[verbose ? 1 : 0] ?? `--${p.name}`);
    if (p.value !== undefined) args.push(p.value);
  }
  if (comments) args.push("-m", "comment", "--comment", fullComment(rule.comment));
  return args;
};

const p = (name: string, value?: string, negate?: boolean): Param => ({ name, value, negate });
const rule = (chain: string, comment: string, params: Param[], insert = false): Rule => ({
  chain,
  insert,
  comment,
  params,
});

/** A realistic nat table: four KUMA_MESH chains, jumps from PREROUTING/OUTPUT, one inserted rule per chain kind. */
export function natRuleSet(family: Family): RuleSet {
  const lo = family === 4 ? "127.0.0.1/32" : "::1/128";
  const inboundPassthrough = family === 4 ? "127.0.0.6/32" : "::6/128";
  return {
    family,
    tables: [{
      name: "nat",
      chains: [
        "KUMA_MESH_INBOUND",
        "KUMA_MESH_INBOUND_REDIRECT",
        "KUMA_MESH_OUTBOUND",
        "KUMA_MESH_OUTBOUND_REDIRECT",
      ],
      rules: [
        rule("PREROUTING", "redirect inbound TCP traffic to KUMA_MESH_INBOUND", [
          p("protocol", "tcp"),
          p("jump", "KUMA_MESH_INBOUND"),
        ]),
        rule("OUTPUT", "redirect outbound TCP traffic to KUMA_MESH_OUTBOUND", [
          p("protocol", "tcp"),
          p("jump", "KUMA_MESH_OUTBOUND"),
        ]),
        rule("OUTPUT", "return early for DNS traffic from kuma-dp", [
          p("protocol", "udp"),
          p("destination-port", "53"),
          p("match", "owner"),
          p("uid-owner", "5678"),
          p("jump", "RETURN"),
        ], true),
        rule("KUMA_MESH_INBOUND", "redirect inbound TCP traffic to KUMA_MESH_INBOUND_REDIRECT", [
          p("protocol", "tcp"),
          p("jump", "KUMA_MESH_INBOUND_REDIRECT"),
        ]),
        rule("KUMA_MESH_INBOUND_REDIRECT", "redirect TCP traffic to envoy (inbound)", [
          p("protocol", "tcp"),
          p("jump", "REDIRECT"),
          p("to-ports", "15006"),
        ]),
        rule("KUMA_MESH_OUTBOUND", "prevent traffic loops by ensuring traffic from the sidecar", [
          p("source", inboundPassthrough),
          p("out-interface", "lo"),
          p("jump", "RETURN"),
        ]),
        rule("KUMA_MESH_OUTBOUND", "redirect outbound TCP traffic to envoy", [
          p("destination", lo, true),
          p("out-interface", "lo"),
          p("match", "owner"),
          p("uid-owner", "5678"),
          p("jump", "KUMA_MESH_INBOUND_REDIRECT"),
        ]),
        rule("KUMA_MESH_OUTBOUND", "return outbound TCP traffic from the app on lo", [
          p("out-interface", "lo"),
          p("match", "owner"),
          p("uid-owner", "5678", true),
          p("jump", "RETURN"),
        ]),
        rule("KUMA_MESH_OUTBOUND", "return outbound TCP traffic from kuma-dp", [
          p("match", "owner"),
          p("uid-owner", "5678"),
          p("jump", "RETURN"),
        ]),
        rule("KUMA_MESH_OUTBOUND", "return outbound TCP traffic to localhost", [
          p("destination", lo),
          p("jump", "RETURN"),
        ]),
        rule("KUMA_MESH_OUTBOUND", "redirect outbound TCP traffic to KUMA_MESH_OUTBOUND_REDIRECT", [
          p("jump", "KUMA_MESH_OUTBOUND_REDIRECT"),
        ]),
        rule("KUMA_MESH_OUTBOUND", "return early for excluded port 22", [
          p("protocol", "tcp"),
          p("destination-port", "22"),
          p("jump", "RETURN"),
        ], true),
        rule("KUMA_MESH_OUTBOUND_REDIRECT", "redirect TCP traffic to envoy (outbound)", [
          p("protocol", "tcp"),
          p("jump", "REDIRECT"),
          p("to-ports", "15001"),
        ]),
      ],
    }],
  };
}

/** The IPv4 and IPv6 nat rule sets. */
export function dualStackRuleSets(): RuleSet[] {
  return [natRuleSet(4), natRuleSet(6)];
}
