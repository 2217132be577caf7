/**
 * One rule of the shared model (src/rules) as an nft rule statement for one
 * family of an `inet` table. The model is written in iptables' terms; each
 * option has exactly one nft spelling (nft(8), "PAYLOAD EXPRESSIONS",
 * "META EXPRESSIONS", "STATEMENTS"), so both backends run the same decisions.
 *
 * @module
 */
import type { Family, Param, Rule } from "../rules/model.ts";
import { NftBuildError } from "./errors.ts";

/** nft log levels by syslog number (nft(8) "LOG STATEMENT"; iptables takes the number). */
const LOG_LEVELS = ["emerg", "alert", "crit", "err", "warn", "notice", "info", "debug"];

/** iptables' `a:b` ranges and `+` interface wildcards in nft spelling. */
function nftRange(value: string): string {
  return value.replace(":", "-");
}

function nftInterface(iface: string): string {
  return JSON.stringify(iface.endsWith("+") ? `${iface.slice(0, -1)}*` : iface);
}

/** `!=` for a negated option. */
function op(p: Param): string {
  return p.negate ? "!= " : "";
}

/**
 * The statement of `rule` for `family`, without its comment. `lookup`
 * replaces the value of one option (a folded list: `@set_name`). A rule that
 * names no address gets `meta nfproto`, so that in the shared `inet` chain it
 * only ever sees packets of its own family.
 *
 * @example
 * ```ts
 * import { ruleStatement } from "./translate.ts";
 * import { appendRule } from "../rules/rule.ts";
 * import { destinationPort, protocol, redirectTo } from "../rules/params.ts";
 * const r = appendRule("X", "x", [protocol("udp"), destinationPort(53), redirectTo(15053)]);
 * const s = ruleStatement(r, 6);
 * if (s !== "meta nfproto ipv6 udp dport 53 redirect to :15053") throw new Error(s);
 * ```
 */
export function ruleStatement(
  rule: Rule,
  family: Family,
  lookup?: { param: string; value: string },
): string {
  const ip = family === 4 ? "ip" : "ip6";
  const parts: string[] = [];
  let proto: string | undefined;
  let protoUsed = false;
  let addressed = false;
  const params = rule.params;
  for (let i = 0; i < params.length; i++) {
    const p = params[i];
    const value = lookup?.param === p.name ? lookup.value : p.value ?? "";
    switch (p.name) {
      case "protocol":
        proto = value;
        protoUsed = false;
        // `tcp dport` implies the protocol; a bare `-p` becomes `meta l4proto`.
        if (!params.slice(i + 1).some((q) => PORT_OPTIONS.has(q.name))) {
          parts.push(`meta l4proto ${value}`);
          protoUsed = true;
        }
        break;
      case "source":
      case "destination":
        addressed = true;
        parts.push(`${ip} ${p.name === "source" ? "saddr" : "daddr"} ${op(p)}${value}`);
        break;
      case "in-interface":
      case "out-interface": {
        // iptables' bare `+` is every interface; nft refuses an all-wildcard
        // name ("All-wildcard strings are not supported"), and no match says the same.
        if (value === "+") {
          if (p.negate) throw new NftBuildError(rule, `! --${p.name} + matches no interface`);
          break;
        }
        const key = p.name === "in-interface" ? "iifname" : "oifname";
        parts.push(`${key} ${op(p)}${nftInterface(value)}`);
        break;
      }
      case "source-port":
      case "destination-port":
      case "dports": {
        if (proto === undefined) throw new NftBuildError(rule, `--${p.name} without a protocol`);
        protoUsed = true;
        const field = p.name === "source-port" ? "sport" : "dport";
        const v = p.name === "dports" && lookup?.param !== p.name
          ? `{ ${value.split(",").map(nftRange).join(", ")} }`
          : value;
        parts.push(`${proto} ${field} ${op(p)}${v}`);
        break;
      }
      case "match":
        // Match modules are implied by what follows (owner, multiport, conntrack).
        break;
      case "uid-owner":
        parts.push(`meta skuid ${op(p)}${nftRange(value)}`);
        break;
      case "ctstate":
        parts.push(`ct state ${op(p)}${value.toLowerCase()}`);
        break;
      case "jump":
        parts.push(target(rule, value, params.slice(i + 1)));
        i = params.length;
        break;
      default:
        throw new NftBuildError(rule, `option --${p.name} has no nft translation`);
    }
  }
  if (proto !== undefined && !protoUsed) parts.unshift(`meta l4proto ${proto}`);
  if (!addressed) parts.unshift(`meta nfproto ipv${family}`);
  return parts.join(" ");
}

const PORT_OPTIONS = new Set(["source-port", "destination-port", "dports"]);

/** The verdict or statement of `-j TARGET` and its options. */
function target(rule: Rule, name: string, options: Param[]): string {
  const opt = (n: string) => {
    const found = options.find((o) => o.name === n)?.value;
    if (found === undefined) throw new NftBuildError(rule, `-j ${name} without --${n}`);
    return found;
  };
  switch (name) {
    case "RETURN":
      return "return";
    case "DROP":
      return "drop";
    case "REDIRECT":
      return `redirect to :${opt("to-ports")}`;
    case "CT":
      return `ct zone set ${opt("zone")}`;
    case "LOG": {
      const level = LOG_LEVELS[Number(opt("log-level"))];
      if (level === undefined) throw new NftBuildError(rule, "log level is not 0-7");
      return `log prefix ${JSON.stringify(opt("log-prefix"))} level ${level}`;
    }
    case "DOCKER_OUTPUT":
      // iptables jumps kuma-dp's DNS into Docker's chain of the same nat
      // table so that Docker's DNAT still sees it; a chain of another nft
      // table cannot be jumped to, and it does not need to be: Docker's
      // chains run at their own priority whatever our table decides.
      return "return";
    default:
      return `jump ${name}`;
  }
}
