import { assertEquals } from "../../assert.ts";
import type { DirectConfig } from "../../../src/firewalld/bus.ts";
import type {
  DirectChain,
  DirectEntry,
  DirectPassthrough,
  DirectRule,
} from "../../../src/firewalld/direct_entries.ts";
import {
  nextPermanent,
  type PersistPlan,
  planRemove,
  planStore,
  rollbackPlan,
  runtimeChange,
} from "../../../src/firewalld/persist_plan.ts";

const TAG = "kuma/mesh/transparent/proxy/";
const chain = (name: string): DirectChain => ({
  kind: "chain",
  ipv: "ipv4",
  table: "nat",
  chain: name,
});
const rule = (chainName: string, comment: string | null, priority = 0): DirectRule => ({
  kind: "rule",
  ipv: "ipv4",
  table: "nat",
  chain: chainName,
  priority,
  args: ["-p", "tcp", ...(comment === null ? [] : ["-m", "comment", "--comment", comment])],
});
const passthrough: DirectPassthrough = { kind: "passthrough", ipv: "ipv4", args: ["-L"] };

const MESH = chain("KUMA_MESH_OUTBOUND");
const MESH_NEW = chain("KUMA_MESH_INBOUND");
const JUMP = rule("OUTPUT", `${TAG}redirect outbound`, 0);
const JUMP_NEW = rule("OUTPUT", `${TAG}redirect outbound, new`, 0);
const DOCKER = chain("DOCKER");
const ADMIN = rule("OUTPUT", "admin", 0);
const ADMIN_BARE = rule("INPUT", null, 1);

const config = (...entries: DirectEntry[]): DirectConfig => ({
  chains: entries.filter((e) => e.kind === "chain"),
  rules: entries.filter((e) => e.kind === "rule"),
  passthroughs: entries.filter((e) => e.kind === "passthrough"),
});

const PERMANENT_CASES: {
  name: string;
  previous: DirectConfig;
  ours: DirectEntry[];
  next: DirectConfig;
}[] = [
  {
    name: "an empty config gets ours",
    previous: config(),
    ours: [MESH, JUMP],
    next: config(MESH, JUMP),
  },
  {
    name: "foreign entries and passthroughs stay, in order, before ours",
    previous: config(DOCKER, ADMIN, ADMIN_BARE, passthrough),
    ours: [MESH, JUMP],
    next: config(DOCKER, MESH, ADMIN, ADMIN_BARE, JUMP, passthrough),
  },
  {
    name: "our old entries are replaced, wherever they were",
    previous: config(MESH, DOCKER, JUMP, ADMIN),
    ours: [MESH_NEW, JUMP_NEW],
    next: config(DOCKER, MESH_NEW, ADMIN, JUMP_NEW),
  },
  {
    name: "no entries of ours takes ours out and leaves the rest",
    previous: config(MESH, DOCKER, JUMP, ADMIN, passthrough),
    ours: [],
    next: config(DOCKER, ADMIN, passthrough),
  },
];

for (const c of PERMANENT_CASES) {
  Deno.test(`nextPermanent() ${c.name}`, () => {
    assertEquals(nextPermanent(c.previous, c.ours), c.next);
  });
}

const RUNTIME_CASES: {
  name: string;
  from: DirectEntry[];
  to: DirectEntry[];
  remove: DirectEntry[];
  add: DirectEntry[];
}[] = [
  { name: "nothing to nothing does nothing", from: [], to: [], remove: [], add: [] },
  { name: "adds chains before rules", from: [], to: [JUMP, MESH], remove: [], add: [MESH, JUMP] },
  {
    name: "removes rules before chains",
    from: [MESH, JUMP],
    to: [],
    remove: [JUMP, MESH],
    add: [],
  },
  {
    name: "leaves entries in both alone (no gap on a re-install)",
    from: [JUMP, MESH],
    to: [MESH, JUMP],
    remove: [],
    add: [],
  },
  {
    name: "a rule that moved priority is removed and added",
    from: [MESH, JUMP],
    to: [MESH, rule("OUTPUT", `${TAG}redirect outbound`, 1)],
    remove: [JUMP],
    add: [rule("OUTPUT", `${TAG}redirect outbound`, 1)],
  },
  {
    name: "replaces what changed only",
    from: [JUMP, MESH],
    to: [MESH, MESH_NEW, JUMP_NEW],
    remove: [JUMP],
    add: [MESH_NEW, JUMP_NEW],
  },
];

for (const c of RUNTIME_CASES) {
  Deno.test(`runtimeChange() ${c.name}`, () => {
    assertEquals(runtimeChange(c.from, c.to), { remove: c.remove, add: c.add });
  });
}

/** A runtime list with a plan's runtime steps applied, as firewalld would. */
function applied(runtime: DirectEntry[], plan: PersistPlan): DirectEntry[] {
  const removed = runtime.filter((e) => !plan.runtime.remove.includes(e));
  return [...removed, ...plan.runtime.add];
}

Deno.test("planStore() rewrites the permanent config and turns our runtime entries into the new ones", () => {
  const previous = config(DOCKER, MESH, JUMP, ADMIN);
  const plan = planStore(previous, [JUMP, MESH, ADMIN], [MESH_NEW, JUMP_NEW]);
  assertEquals(plan.permanent, config(DOCKER, MESH_NEW, ADMIN, JUMP_NEW));
  // Foreign runtime entries are never touched.
  assertEquals(plan.runtime, { remove: [JUMP, MESH], add: [MESH_NEW, JUMP_NEW] });
});

Deno.test("planStore() rewrites the permanent config even when it is unchanged", () => {
  const previous = config(MESH, JUMP);
  const plan = planStore(previous, [MESH, JUMP], [MESH, JUMP]);
  assertEquals(plan.permanent, previous);
  assertEquals(plan.runtime, { remove: [], add: [] });
});

Deno.test("planRemove() leaves a permanent config without entries of ours alone", () => {
  const plan = planRemove(config(DOCKER, ADMIN), [ADMIN]);
  assertEquals(plan, { permanent: null, runtime: { remove: [], add: [] } });
});

Deno.test("planRemove() takes out only ours, permanent and runtime", () => {
  const plan = planRemove(config(DOCKER, MESH, JUMP, ADMIN, passthrough), [ADMIN, JUMP, MESH]);
  assertEquals(plan.permanent, config(DOCKER, ADMIN, passthrough));
  assertEquals(plan.runtime, { remove: [JUMP, MESH], add: [] });
});

Deno.test("rollbackPlan() of a plan applied in full is its inverse and leads back to the state before", () => {
  const previous = config(DOCKER, MESH, JUMP);
  const runtimeBefore = [JUMP, MESH];
  const plan = planStore(previous, runtimeBefore, [MESH_NEW, JUMP_NEW]);
  const runtimeAfter = applied(runtimeBefore, plan);
  const back = rollbackPlan(previous, runtimeBefore, runtimeAfter);
  assertEquals(back.permanent, previous);
  assertEquals(back.runtime, { remove: [JUMP_NEW, MESH_NEW], add: [MESH, JUMP] });
  assertEquals(new Set(applied(runtimeAfter, back)), new Set(runtimeBefore));
});

Deno.test("rollbackPlan() after a plan failed part-way undoes only what was applied", () => {
  const runtimeBefore = [JUMP, MESH];
  // The old rule went, the new chain came, then firewalld refused the new rule.
  const runtimeNow = [MESH, MESH_NEW];
  const back = rollbackPlan(config(MESH, JUMP), runtimeBefore, [...runtimeNow, ADMIN]);
  assertEquals(back.runtime, { remove: [MESH_NEW], add: [JUMP] });
});
