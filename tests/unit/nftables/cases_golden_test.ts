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
