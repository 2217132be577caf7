import { assertEquals, assertThrows } from "../../assert.ts";
import { FULL_FUNCTIONALITY } from "../../../src/rules/facts.ts";
import { ExecutablesError } from "../../../src/iptables/errors.ts";
import type { Executables } from "../../../src/iptables/executables.ts";
import {
  assertMinimumFunctionality,
  probeFunctionality,
} from "../../../src/iptables/functionality.ts";
import { fail, FakeRunner, ok } from "../os/fake_runner.ts";

const exe: Executables = {
  mode: "legacy",
  family: 4,
  iptables: "ipt",
  save: "ipt-save",
  restore: "ipt-restore",
};

Deno.test("probeFunctionality() asks -m <module> -h and save -t <table>", async () => {
  const runner = new FakeRunner(({ cmd, args }) => {
    if (cmd === "ipt" && args[0] === "-m") {
      // As iptables does: the first -m it cannot load fails the whole command.
      const loads = args.filter((_, i) => args[i - 1] === "-m");
      return loads.some((m) => ["conntrack", "multiport"].includes(m))
        ? fail("Couldn't load match")
        : ok();
    }
    if (cmd === "ipt-save" && args[1] === "nat") {
      return ok("*nat\n:OUTPUT ACCEPT [0:0]\n:DOCKER_OUTPUT - [0:0]\nCOMMIT\n");
    }
    if (cmd === "ipt-save" && args[1] === "raw") {
      return fail("can't initialize iptables table `raw'");
    }
    if (cmd === "ipt-save") return ok("*mangle\nCOMMIT\n");
    return undefined;
  });
  const f = await probeFunctionality(runner, exe);
  assertEquals(f, {
    tables: { nat: true, raw: false, mangle: true },
    modules: {
      comment: true,
      conntrack: false,
      owner: true,
      multiport: false,
      tcp: true,
      udp: true,
    },
    dockerOutput: true,
  });
  assertEquals(runner.lines().includes("ipt -m owner -h"), true);
  assertEquals(runner.lines().includes("ipt-save -t raw"), true);
});

Deno.test("probeFunctionality() asks for all six modules in one command when they all load", async () => {
  const runner = new FakeRunner(({ cmd }) => {
    if (cmd === "ipt") return ok();
    if (cmd === "ipt-save") return ok("*nat\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n");
    return undefined;
  });
  const f = await probeFunctionality(runner, exe, { tables: [] });
  assertEquals(Object.values(f.modules).every((m) => m), true);
  assertEquals(runner.lines().filter((l) => l.startsWith("ipt ")), [
    "ipt -m comment -m conntrack -m owner -m multiport -m tcp -m udp -h",
  ]);
});

Deno.test("probeFunctionality() treats an executable that cannot start as missing everything", async () => {
  const f = await probeFunctionality(new FakeRunner(() => undefined), exe);
  assertEquals(f.tables.nat, false);
  assertEquals(f.modules.owner, false);
  assertEquals(f.dockerOutput, false);
});

Deno.test("assertMinimumFunctionality() needs nat, tcp and owner", () => {
  assertMinimumFunctionality({
    ...FULL_FUNCTIONALITY,
    modules: { ...FULL_FUNCTIONALITY.modules, comment: false },
  });
  const e = assertThrows(
    () =>
      assertMinimumFunctionality({
        ...FULL_FUNCTIONALITY,
        tables: { nat: false, raw: true, mangle: true },
        modules: { ...FULL_FUNCTIONALITY.modules, owner: false },
      }),
    ExecutablesError,
  );
  assertEquals(e.code, "minimum_requirements");
  assertEquals(e.details, ['table: "nat"', 'module: "owner"']);
});

Deno.test("probeFunctionality() probes only the tables asked for, and always nat", async () => {
  const runner = new FakeRunner(() => ok("*x\nCOMMIT\n"));
  const f = await probeFunctionality(runner, exe, { tables: ["raw"] });
  assertEquals(f.tables, { nat: true, raw: true, mangle: false });
  const probed = runner.calls.filter((c) => c.cmd === "ipt-save").map((c) => c.args[1]).sort();
  assertEquals(probed, ["nat", "raw"]);
});

Deno.test("probeFunctionality() on nft reads the plain dump for tables and DOCKER_OUTPUT, no -t", async () => {
  const nft: Executables = { ...exe, mode: "nft" };
  const runner = new FakeRunner(({ cmd, args }) => {
    if (cmd === "ipt") return ok();
    if (cmd === "ipt-save" && args.length === 0) {
      return ok("*nat\n:OUTPUT ACCEPT [0:0]\n:DOCKER_OUTPUT - [0:0]\nCOMMIT\n");
    }
    return fail("unexpected");
  });
  const f = await probeFunctionality(runner, nft, { tables: ["raw"] });
  // Only the tables asked for (and nat) read as present, as with the -t probes.
  assertEquals(f.tables, { nat: true, raw: true, mangle: false });
  assertEquals(f.dockerOutput, true);
  assertEquals(runner.lines().filter((l) => l.startsWith("ipt-save")), ["ipt-save"]);

  // A shared reader stands in for the save; a save that cannot run means no table.
  const shared = new FakeRunner(({ cmd }) => cmd === "ipt" ? ok() : undefined);
  const none = await probeFunctionality(shared, nft, {
    readDump: () => Promise.reject(new Error("no nf_tables")),
  });
  assertEquals([none.tables.nat, none.dockerOutput], [false, false]);
  assertEquals(shared.lines().some((l) => l.startsWith("ipt-save")), false);
});
