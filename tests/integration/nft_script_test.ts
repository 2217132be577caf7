/**
 * Every golden nft script is accepted by the real nft and kernel, and applying
 * one twice gives the same ruleset (the add-delete-define file is idempotent).
 */
import { assertEquals } from "../assert.ts";
import { withNetns } from "../world/netns.ts";
import { CASES } from "../cases.ts";
import { nftScriptForCase } from "../unit/nftables/helpers.ts";

for (const c of CASES) {
  Deno.test(`nft accepts the script of case ${c.name}, and a second apply changes nothing`, async () => {
    await withNetns("nftscript", async (ns) => {
      const script = await nftScriptForCase(c.name);
      await ns.exec("nft", ["-f", "-"], script);
      const once = await ns.exec("nft", ["list", "ruleset"]);
      await ns.exec("nft", ["-f", "-"], script);
      assertEquals(await ns.exec("nft", ["list", "ruleset"]), once);
    });
  });
}
