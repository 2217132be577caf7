import { assertEquals } from "../../assert.ts";
import type {
  DirectChain,
  DirectEntry,
  DirectPassthrough,
  DirectRule,
} from "../../../src/firewalld/direct_entries.ts";
import {
  describeForeign,
  firewallBackend,
  type FlushRegime,
  flushRegime,
  flushVerdict,
  type ForeignIptables,
  type RegimeFacts,
} from "../../../src/firewalld/flush_regime.ts";
import { packageVersion, readRegimeFacts } from "../../../src/firewalld/flush_facts.ts";
import { FakeBus } from "./_fake_bus.ts";

const NFT = "FirewallBackend=nftables\n";
const IPT = "# comment\nFirewallBackend=iptables\n";

const REGIME_CASES: { name: string; facts: RegimeFacts; regime: FlushRegime }[] = [
  {
    name: "2.3.1 (RHEL 10, Debian 13), stock conf",
    facts: { conf: NFT, version: "2.3.1", skipsFlush: true },
    regime: "on_direct",
  },
  {
    name: "2.0.0, source not found: the version decides",
    facts: { conf: null, version: "2.0.0", skipsFlush: null },
    regime: "on_direct",
  },
  {
    name: "1.3.3 without the change (Debian 12)",
    facts: { conf: NFT, version: "1.3.3", skipsFlush: false },
    regime: "always",
  },
  {
    name: "1.2.5 with the change backported (RHEL 9.3+)",
    facts: { conf: NFT, version: "1.2.5", skipsFlush: true },
    regime: "on_direct",
  },
  {
    name: "0.9.3 (Debian 11)",
    facts: { conf: NFT, version: "0.9.3", skipsFlush: false },
    regime: "always",
  },
  {
    name: "1.3.3, source not found: a backport cannot be ruled out",
    facts: { conf: NFT, version: "1.3.3", skipsFlush: null },
    regime: "on_direct",
  },
  {
    name: "nothing known",
    facts: { conf: null, version: null, skipsFlush: null },
    regime: "on_direct",
  },
  {
    name: "stopped 1.3.3: installed source without the change",
    facts: { conf: null, version: null, skipsFlush: false },
    regime: "always",
  },
  {
    name: "2.3.1 with FirewallBackend=iptables flushes at every reload anyway",
    facts: { conf: IPT, version: "2.3.1", skipsFlush: true },
    regime: "always",
  },
  {
    name: "an unknown FirewallBackend value counts as nftables, as firewalld reads it",
    facts: { conf: "FirewallBackend=\nFirewallBackend=nft\n", version: "2.3.1", skipsFlush: true },
    regime: "on_direct",
  },
];

Deno.test("flushRegime(): only an unknown source leaves the regime unproven", () => {
  for (const c of REGIME_CASES) {
    const unknown = c.facts.skipsFlush === null && !/^[2-9]\./.test(c.facts.version ?? "") &&
      c.regime === "on_direct";
    assertEquals(flushRegime(c.facts).proven, !unknown, c.name);
  }
});

for (const c of REGIME_CASES) {
  Deno.test(`flushRegime(): ${c.name} -> ${c.regime}`, () => {
    assertEquals(flushRegime(c.facts).regime, c.regime);
  });
}

Deno.test("firewallBackend() reads the first definition and skips comments", () => {
  assertEquals(firewallBackend("#FirewallBackend=iptables\n"), "nftables");
  assertEquals(firewallBackend(";FirewallBackend=iptables\n"), "nftables");
  assertEquals(
    firewallBackend("FirewallBackend = IPTables\nFirewallBackend=nftables\n"),
    "iptables",
  );
  assertEquals(firewallBackend(""), "nftables");
});

const TAG = "kuma/mesh/transparent/proxy/";
const MESH: DirectChain = { kind: "chain", ipv: "ipv4", table: "nat", chain: "KUMA_MESH_INBOUND" };
const OURS: DirectRule = {
  kind: "rule",
  ipv: "ipv4",
  table: "nat",
  chain: "PREROUTING",
  priority: 0,
  args: ["-p", "tcp", "-m", "comment", "--comment", `${TAG}x`, "-j", "KUMA_MESH_INBOUND"],
};
const FOREIGN_RULE: DirectRule = { ...OURS, args: ["-p", "udp", "-j", "ACCEPT"] };
const FOREIGN_CHAIN: DirectChain = { ...MESH, chain: "DOCKER" };
const PASSTHROUGH: DirectPassthrough = { kind: "passthrough", ipv: "ipv6", args: ["-L"] };
const ADMIN: ForeignIptables = {
  family: 4,
  table: "filter",
  chain: "INPUT",
  rule: '-A INPUT -p tcp -m tcp --dport 6 -m comment --comment "admin rule" -j ACCEPT',
};
const DOCKERISH: ForeignIptables = { family: 4, table: "nat", chain: "DOCKERISH" };

const VERDICT_CASES: {
  name: string;
  regime: FlushRegime;
  direct: DirectEntry[];
  foreign: ForeignIptables[];
  allowFlush: boolean;
  flushes: boolean;
  refuse: boolean;
}[] = [
  {
    name: "the issue's repro: empty direct config, foreign rules",
    regime: "on_direct",
    direct: [],
    foreign: [ADMIN, DOCKERISH],
    allowFlush: false,
    flushes: true,
    refuse: true,
  },
  {
    name: "the flush accepted",
    regime: "on_direct",
    direct: [],
    foreign: [ADMIN, DOCKERISH],
    allowFlush: true,
    flushes: true,
    refuse: false,
  },
  {
    name: "nothing foreign to flush",
    regime: "on_direct",
    direct: [],
    foreign: [],
    allowFlush: false,
    flushes: true,
    refuse: false,
  },
  {
    name: "a re-install: only our entries are there, so ours are still what flushes",
    regime: "on_direct",
    direct: [MESH, OURS],
    foreign: [ADMIN],
    allowFlush: false,
    flushes: true,
    refuse: true,
  },
  {
    name: "a foreign direct rule already makes firewalld flush",
    regime: "on_direct",
    direct: [MESH, FOREIGN_RULE],
    foreign: [ADMIN],
    allowFlush: false,
    flushes: false,
    refuse: false,
  },
  {
    name: "a foreign direct chain already makes firewalld flush",
    regime: "on_direct",
    direct: [FOREIGN_CHAIN],
    foreign: [ADMIN],
    allowFlush: false,
    flushes: false,
    refuse: false,
  },
  {
    name: "a passthrough counts as a direct entry (firewalld's has_runtime_configuration)",
    regime: "on_direct",
    direct: [PASSTHROUGH],
    foreign: [ADMIN],
    allowFlush: false,
    flushes: false,
    refuse: false,
  },
  {
    name: "firewalld before 2.0 flushes at every reload whatever we store",
    regime: "always",
    direct: [],
    foreign: [ADMIN, DOCKERISH],
    allowFlush: false,
    flushes: false,
    refuse: false,
  },
];

for (const c of VERDICT_CASES) {
  Deno.test(`flushVerdict(): ${c.name}`, () => {
    const v = flushVerdict(c);
    assertEquals([v.flushes, v.refuse], [c.flushes, c.refuse]);
    assertEquals(v.foreign, c.flushes ? c.foreign : []);
  });
}

Deno.test("describeForeign() names family, table, chain and rule", () => {
  assertEquals(describeForeign([ADMIN, DOCKERISH]), [
    'IPv4 filter INPUT: -A INPUT -p tcp -m tcp --dport 6 -m comment --comment "admin rule" -j ACCEPT',
    "IPv4 nat DOCKERISH: -N DOCKERISH",
  ]);
});

Deno.test("packageVersion() reads firewall/config/__init__.py", () => {
  assertEquals(packageVersion('# x\nVERSION = "2.3.1"\n'), "2.3.1");
  assertEquals(packageVersion("nothing"), null);
});

Deno.test("readRegimeFacts(): the bus's version first, then the first package found", async () => {
  const files: Record<string, string> = {
    "/b/firewall/core/fw.py": "    def may_skip_flush_direct_backends(self):\n",
    "/b/firewall/config/__init__.py": 'VERSION = "1.2.5"\n',
    "/c/firewall/core/fw.py": "no marker",
  };
  const read = (path: string) =>
    path in files ? Promise.resolve(files[path]) : Promise.reject(new Deno.errors.NotFound(path));
  const dirs = ["/a/firewall", "/b/firewall", "/c/firewall"];
  assertEquals(await readRegimeFacts(null, undefined, read, dirs), {
    conf: null,
    version: "1.2.5",
    skipsFlush: true,
  });
  const bus = new FakeBus();
  bus.firewalldVersion = "2.3.1";
  assertEquals(await readRegimeFacts(NFT, bus, read, dirs), {
    conf: NFT,
    version: "2.3.1",
    skipsFlush: true,
  });
  assertEquals(await readRegimeFacts(null, undefined, read, ["/c/firewall"]), {
    conf: null,
    version: null,
    skipsFlush: false,
  });
  assertEquals(await readRegimeFacts(null, undefined, read, ["/a/firewall"]), {
    conf: null,
    version: null,
    skipsFlush: null,
  });
});
