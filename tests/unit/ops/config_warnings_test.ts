import { assertEquals, assertStringIncludes } from "../../assert.ts";
import { configWarnings } from "../../../src/ops/config_warnings.ts";
import { defaultConfig } from "../../../src/config/defaults.ts";

Deno.test("configWarnings() says nothing for the default config and a kuma-dp user of its own", () => {
  assertEquals(configWarnings(defaultConfig(), 5678), []);
});

Deno.test("configWarnings() warns when the kuma-dp user is root", () => {
  const [w, ...rest] = configWarnings(defaultConfig(), 0);
  assertStringIncludes(w, "the kuma-dp user is root (UID 0)");
  assertEquals(rest, []);
});

Deno.test("configWarnings() warns about equal redirect ports only when both directions redirect", () => {
  const config = defaultConfig();
  config.redirect.inbound.port = config.redirect.outbound.port;
  const [w] = configWarnings(config, 5678);
  assertStringIncludes(w, "redirect.inbound.port and redirect.outbound.port are both 15001");
  config.redirect.outbound.enabled = false;
  assertEquals(configWarnings(config, 5678), []);
});

Deno.test("configWarnings() names the ports both included and excluded, per direction", () => {
  const config = defaultConfig();
  config.redirect.inbound.includePorts = [80, 443];
  config.redirect.inbound.excludePorts = [22, 80];
  config.redirect.outbound.includePorts = [8080, 443, 80];
  config.redirect.outbound.excludePorts = [443, 80, 8080, 80];
  assertEquals(configWarnings(config, 5678), [
    "port 80 is in both redirect.inbound.includePorts and redirect.inbound.excludePorts: " +
    "with includePorts set, excludePorts is ignored (as in kumactl), so it is redirected",
    "ports 80, 443 and 8080 are in both redirect.outbound.includePorts and " +
    "redirect.outbound.excludePorts: with includePorts set, excludePorts is ignored (as in " +
    "kumactl), so they are redirected",
  ]);
  // Exclusions alone, or a direction that does not redirect, say nothing.
  config.redirect.inbound.includePorts = [];
  config.redirect.outbound.enabled = false;
  assertEquals(configWarnings(config, 5678), []);
});

Deno.test("configWarnings() says where allowFirewalldFlush does nothing", () => {
  const config = defaultConfig();
  config.allowFirewalldFlush = true;
  const [w] = configWarnings(config, 5678);
  assertStringIncludes(w, "allowFirewalldFlush does nothing here");
  config.storeFirewalld = true;
  assertEquals(configWarnings(config, 5678), []);
  config.backend = "nftables";
  assertEquals(configWarnings(config, 5678).length, 1);
});
