/**
 * Every golden nft script is accepted by the real nft and kernel, applying
 * one twice gives the same ruleset (the add-delete-define file is idempotent),
 * and what `nft -j` lists back is provably ours and exactly what status
 * expects (no false drift for any case).
 */
import { assertEquals } from "../assert.ts";
import { withNetns } from "../world/netns.ts";
import { CASES } from "../cases.ts";
import { nftExpectedForCase, nftScriptForCase } from "../unit/nftables/helpers.ts";
import { liveLines, parseNftJson } from "../../src/nftables/state.ts";
import { notOursBecause } from "../../src/nftables/ownership.ts";

for (const c of CASES) {
  Deno.test(`nft accepts the script of case ${c.name}, and a second apply changes nothing`, async () => {
    await withNetns("nftscript", async (ns) => {
      const script = await nftScriptForCase(c.name);
      await ns.exec("nft", ["-f", "-"], script);
      const once = await ns.exec("nft", ["list", "ruleset"]);
      await ns.exec("nft", ["-f", "-"], script);
      assertEquals(await ns.exec("nft", ["list", "ruleset"]), once);
      const json = await ns.exec("nft", [
        "-j",
        "list",
        "table",
        "inet",
        "kuma_mesh_transparent_proxy",
      ]);
      const [table] = parseNftJson(json);
      assertEquals(notOursBecause(table), undefined);
      assertEquals(liveLines(table), await nftExpectedForCase(c.name));
    });
  });
}
