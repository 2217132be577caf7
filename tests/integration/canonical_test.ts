/**
 * Proves canonicalRule() against real iptables: for every case of the case
 * table, both families, short and verbose form, both backends, the rules
 * loaded into a fresh namespace and read back with iptables-save have the
 * same canonical forms as the generated text; and a rule with one value
 * changed does not.
 *
 * Needs root and `ip netns` (run with --allow-all).
 */
import { canonicalRules, canonicalSavedRules } from "../../src/iptables/canonical.ts";
import { parseSave } from "../../src/iptables/save_parser.ts";
import { buildRuleSet } from "../../src/rules/build.ts";
import type { Family } from "../../src/rules/model.ts";
import { renderOptionsFor, renderRestore } from "../../src/rules/render.ts";
import { assert, assertEquals, assertNotEquals } from "../assert.ts";
import { CASES, configForCase, factsForCase } from "../cases.ts";
import { withNetns } from "../world/netns.ts";

type Backend = "nft" | "legacy";

async function render(caseName: string, family: Family, verbose: boolean): Promise<string> {
  const config = await configForCase(caseName);
  config.verbose = verbose;
  const facts = factsForCase(caseName, family);
  const { ruleSet } = buildRuleSet(config, facts);
  return renderRestore(ruleSet, renderOptionsFor(config, facts.functionality));
}

function tools(family: Family, backend: Backend) {
  const base = family === 4 ? "iptables" : "ip6tables";
  return { restore: `${base}-${backend}-restore`, save: `${base}-${backend}-save` };
}

/** Loads `text` into a fresh namespace and returns iptables-save's output. */
function loadAndSave(text: string, family: Family, backend: Backend): Promise<string> {
  const { restore, save } = tools(family, backend);
  return withNetns(`cn${backend[0]}${family}`, async (ns) => {
    await ns.exec(restore, ["--noflush"], text);
    return await ns.exec(save, []);
  });
}

/** Changes the first port-like value of the first rule that has one: 53 -> 54, 15001 -> 15002. */
function changeOneValue(text: string): string {
  const lines = text.split("\n");
  const i = lines.findIndex((l) => /(--dport|--destination-port|--to-ports) \d+/.test(l));
  assert(i >= 0, "the rule text has a port to change");
  lines[i] = lines[i].replace(
    /(--dport|--destination-port|--to-ports) (\d+)/,
    (_m, opt, n) => `${opt} ${Number(n) + 1}`,
  );
  return lines.join("\n");
}

const plain = (m: Map<string, string[]>) => Object.fromEntries(m);

for (const backend of ["nft", "legacy"] as const) {
  for (const family of [4, 6] as const) {
    Deno.test(`canonicalRules() equals iptables-save for every case (IPv${family}, ${backend})`, async (t) => {
      for (const c of CASES) {
        for (const verbose of [false, true]) {
          await t.step(`${c.name}${verbose ? " verbose" : ""}`, async () => {
            const text = await render(c.name, family, verbose);
            const dump = parseSave(await loadAndSave(text, family, backend));
            const expected = plain(canonicalRules(text));
            assert(Object.keys(expected).length > 0, "the case generates rules");
            // The namespace holds nothing but the loaded rules, so all of them count.
            assertEquals(plain(canonicalSavedRules(dump, { oursOnly: false })), expected);
            // With comments, our rules are recognisable among foreign ones too.
            assertEquals(
              plain(canonicalSavedRules(dump)),
              plain(canonicalRules(text, { oursOnly: true })),
            );
          });
        }
      }
    });

    Deno.test(`canonicalRules() tells a changed port from iptables-save (IPv${family}, ${backend})`, async () => {
      const text = await render("with-multiple-flags", family, false);
      const dump = parseSave(await loadAndSave(changeOneValue(text), family, backend));
      assertNotEquals(plain(canonicalSavedRules(dump)), plain(canonicalRules(text)));
    });
  }
}
