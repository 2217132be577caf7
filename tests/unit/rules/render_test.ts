import { buildRuleSet } from "../../../src/rules/build.ts";
import type { Rule, RuleSet } from "../../../src/rules/model.ts";
import {
  renderDryRun,
  renderOptionsFor,
  renderRestore,
  ruleArgs,
} from "../../../src/rules/render.ts";
import { assert, assertEquals } from "../../assert.ts";
import { assertGolden } from "../../golden.ts";
import { config, facts, functionality } from "./helpers.ts";

const rule = (chain: string, insert: boolean, comment: string): Rule => ({
  chain,
  insert,
  comment,
  params: [{ name: "protocol", value: "tcp" }, { name: "jump", value: "RETURN" }],
});

/** Rules deliberately out of file order, with inserts in two chains. */
const mixed: RuleSet = {
  family: 4,
  tables: [{
    name: "nat",
    chains: ["KUMA_MESH_B", "KUMA_MESH_A"],
    rules: [
      rule("KUMA_MESH_A", false, "a"),
      rule("OUTPUT", true, "o1"),
      rule("POSTROUTING", false, "post"),
      rule("PREROUTING", true, "p1"),
      rule("OUTPUT", false, "o-append"),
      rule("KUMA_MESH_B", false, "b"),
      rule("OUTPUT", true, "o2"),
      rule("PREROUTING", true, "p2"),
    ],
  }],
};

Deno.test("renderRestore() writes -N lines first, then rules by chain, numbering inserts per chain", () => {
  const text = renderRestore(mixed, { verbose: false, comments: false });
  assertEquals(text.split("\n"), [
    "*nat",
    "-N KUMA_MESH_B",
    "-N KUMA_MESH_A",
    "-I PREROUTING 1 -p tcp -j RETURN",
    "-I PREROUTING 2 -p tcp -j RETURN",
    "-I OUTPUT 1 -p tcp -j RETURN",
    "-A OUTPUT -p tcp -j RETURN",
    "-I OUTPUT 2 -p tcp -j RETURN",
    "-A POSTROUTING -p tcp -j RETURN",
    "-A KUMA_MESH_B -p tcp -j RETURN",
    "-A KUMA_MESH_A -p tcp -j RETURN",
    "COMMIT",
    "",
  ]);
});

Deno.test("renderRestore() quotes the comment and puts it first", () => {
  const text = renderRestore(mixed, { verbose: false, comments: true });
  assert(
    text.includes(
      '-I OUTPUT 2 -m comment --comment "kuma/mesh/transparent/proxy/o2" -p tcp -j RETURN\n',
    ),
    text,
  );
});

Deno.test("renderRestore() writes long options and section headers when verbose", () => {
  const text = renderRestore(mixed, { verbose: true, comments: true });
  const lines = text.split("\n");
  assertEquals(lines.slice(0, 6), [
    "*nat",
    "# Custom Chains:",
    "--new-chain KUMA_MESH_B",
    "--new-chain KUMA_MESH_A",
    "",
    "# Rules:",
  ]);
  assertEquals(
    lines[6],
    '--insert PREROUTING 1 --match comment --comment "kuma/mesh/transparent/proxy/p1" --protocol tcp --jump RETURN',
  );
  assertEquals(lines.slice(-3), ["", "COMMIT", ""]);
});

Deno.test("renderRestore() separates tables with a newline, or a blank line when verbose", () => {
  const c = config((c) => (c.redirect.dns.enabled = true));
  const { ruleSet } = buildRuleSet(c, facts(4));
  assert(renderRestore(ruleSet, { verbose: false, comments: false }).includes("COMMIT\n*nat\n"));
  assert(renderRestore(ruleSet, { verbose: true, comments: false }).includes("COMMIT\n\n*nat\n"));
});

Deno.test("ruleArgs() gives the comment as one unquoted token, without the chain", () => {
  const args = ruleArgs(rule("OUTPUT", true, "a comment with spaces"), {
    verbose: false,
    comments: true,
  });
  assertEquals(args, [
    "-m",
    "comment",
    "--comment",
    "kuma/mesh/transparent/proxy/a comment with spaces",
    "-p",
    "tcp",
    "-j",
    "RETURN",
  ]);
});

Deno.test("ruleArgs() writes negations before the option", () => {
  const r: Rule = {
    chain: "X",
    insert: false,
    comment: "n",
    params: [{ name: "destination", value: "::1/128", negate: true }, {
      name: "uid-owner",
      value: "1",
      negate: true,
    }],
  };
  assertEquals(ruleArgs(r, { verbose: true, comments: false }), [
    "!",
    "--destination",
    "::1/128",
    "!",
    "--uid-owner",
    "1",
  ]);
});

Deno.test("renderOptionsFor() turns comments off when disabled or the module is missing", () => {
  const noModule = functionality((f) => (f.modules.comment = false));
  assertEquals(renderOptionsFor(config(), noModule).comments, false);
  assertEquals(
    renderOptionsFor(config((c) => (c.comments.disabled = true)), facts(4).functionality).comments,
    false,
  );
  assertEquals(renderOptionsFor(config((c) => (c.verbose = true)), facts(4).functionality), {
    verbose: true,
    comments: true,
  });
});

Deno.test("renderDryRun() lays out the families like kumactl", () => {
  assertEquals(
    renderDryRun([{ family: 4, text: "*nat\nCOMMIT\n" }, { family: 6, text: "*raw\nCOMMIT\n" }]),
    "### IPv4 ###\n\n*nat\nCOMMIT\n\n### IPv6 ###\n\n*raw\nCOMMIT\n",
  );
});

// Host variants that no case covers: Docker's DOCKER_OUTPUT chain, no
// conntrack module and no comment module.
for (const verbose of [false, true]) {
  Deno.test(`renderRestore() matches the golden text of a Docker host without conntrack${verbose ? " (verbose)" : ""}`, () => {
    const c = config((c) => {
      c.redirect.dns.enabled = true;
      c.verbose = verbose;
    });
    const fn = functionality((f) => {
      f.dockerOutput = true;
      f.modules.conntrack = false;
      f.modules.comment = false;
    });
    const sections = ([4, 6] as const).map((family) => {
      const f = facts(family, {
        nameservers: family === 4 ? ["127.0.0.11"] : ["fd00::53"],
        functionality: fn,
      });
      return { family, text: renderRestore(buildRuleSet(c, f).ruleSet, renderOptionsFor(c, fn)) };
    });
    assertGolden(
      `rules/host-docker-no-conntrack${verbose ? ".verbose" : ""}.txt`,
      renderDryRun(sections),
    );
  });
}
