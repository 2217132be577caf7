/**
 * issue 21 item 11 through cli() in memory: the words kumactl users type
 * (`version`, `help`), `status --json` naming backends and answering when
 * it fails, the zsh completion script (no zsh here to run it; bash's is run
 * in tests/integration/cli_completion_test.ts).
 */
import { assert, assertEquals, assertStringIncludes } from "../../assert.ts";
import { cli } from "../../../src/cli/cli.ts";
import { EXIT } from "../../../src/ops/exit_codes.ts";
import { VERSION } from "../../../src/version.ts";
import { memoryHost } from "./_memory_host.ts";

Deno.test("cli() takes kumactl's `version` and `help` words", async () => {
  const version = await memoryHost();
  assertEquals(await cli(["version"], version.io), EXIT.OK);
  assertEquals([version.out(), version.err()], [`${VERSION}\n`, ""]);

  const help = await memoryHost();
  assertEquals(await cli(["help"], help.io), EXIT.OK);
  assertStringIncludes(help.out(), "Usage: kuma-tproxy [options] [command]");
  assertStringIncludes(help.out(), "version ");

  const install = await memoryHost();
  assertEquals(await cli(["help", "install"], install.io), EXIT.OK);
  assertStringIncludes(install.out(), "Usage: kuma-tproxy install [options] [target]");

  const unknown = await memoryHost();
  assertEquals(await cli(["help", "instal"], unknown.io), EXIT.USAGE);
  assertEquals(
    unknown.err(),
    "kuma-tproxy: unknown command 'instal' for help; run with --help for usage\n",
  );
});

Deno.test("cli() status --json names an iptables backend iptables-nft, not nft", async () => {
  const h = await memoryHost();
  assertEquals(await cli(["status", "--json", "--ip-family-mode", "ipv4"], h.io), 4, h.err());
  const report = JSON.parse(h.out());
  assertEquals(report.families[0].backend, "iptables-nft");
});

Deno.test("cli() status --json prints a JSON object with the error when it cannot answer", async () => {
  const notRoot = await memoryHost({ uid: 1000 });
  assertEquals(await cli(["status", "--json"], notRoot.io), EXIT.FAILURE);
  const json = JSON.parse(notRoot.out());
  assertEquals([json.state, json.exitCode], ["error", 1]);
  assertStringIncludes(json.error, "status needs root");
  assertStringIncludes(notRoot.err(), "kuma-tproxy: status needs root");

  const badConfig = await memoryHost();
  assertEquals(await cli(["status", "--json", "--redirect-dns-port", "0"], badConfig.io), 2);
  assertEquals(JSON.parse(badConfig.out()).exitCode, 2);
  // Without --json stdout stays empty.
  const text = await memoryHost({ uid: 1000 });
  assertEquals(await cli(["status"], text.io), EXIT.FAILURE);
  assertEquals(text.out(), "");
});

Deno.test("cli() completion zsh completes values and no hidden flag", async () => {
  const h = await memoryHost();
  assertEquals(await cli(["completion", "zsh"], h.io), EXIT.OK);
  const script = h.out();
  assertStringIncludes(script, ":name:(iptables nftables)'");
  assertStringIncludes(script, ":mode:(dualstack ipv4)'");
  assertStringIncludes(script, "'1:shell:(bash zsh)'");
  assertStringIncludes(script, "'1:target:(transparent-proxy)'");
  assertStringIncludes(script, "--config[");
  assert(/'--config\[[^\]]*\]:source:_files'/.test(script), "--config completes files");
  assert(!script.includes("--kuma-dp-uid"), "a hidden alias is offered");
  assert(!script.includes("'*: :_files'"), "every word completes files");
});
