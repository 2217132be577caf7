/**
 * Golden nft scripts for every case of tests/cases.ts: both families of the
 * case's rule sets (the ones the iptables goldens show) as one inet table.
 */
import { CASES } from "../../cases.ts";
import { assertGolden } from "../../golden.ts";
import { nftScriptForCase } from "./helpers.ts";

for (const c of CASES) {
  Deno.test(`renderNftScript() matches the golden script of case ${c.name}`, async () => {
    assertGolden(`nftables/${c.name}.nft`, await nftScriptForCase(c.name));
  });
}

/**
 * nft before 1.0.9 rejects a named priority (`priority dstnat`) on the output
 * hook, and RHEL 8.10 ships nft 1.0.4 (Debian 11: 0.9.8): every base chain's
 * priority must stay a number, in every case's script.
 */
Deno.test("renderNftScript() gives every base chain a numeric priority (nft before 1.0.9)", async () => {
  for (const c of CASES) {
    const script = await nftScriptForCase(c.name);
    const priorities = [...script.matchAll(/\bpriority\s+([^;]+);/g)].map((m) => m[1]);
    const hooks = [...script.matchAll(/\btype \w+ hook \w+ /g)].length;
    if (priorities.length !== hooks) {
      throw new Error(`case ${c.name}: ${hooks} hooks but ${priorities.length} priorities`);
    }
    for (const p of priorities) {
      if (!/^-?\d+$/.test(p)) throw new Error(`case ${c.name}: priority ${p} is not a number`);
    }
  }
});
