/**
 * What every run loads (issue 11, start-up): yaml, sax and dbus-next are
 * imported only on the paths that use them, so a default install, uninstall
 * or status never pays for them. yaml and dbus-next load as CommonJS, and
 * the first CommonJS package bootstraps Deno's Node compatibility layer;
 * each costs tens of milliseconds (bench/README.md).
 *
 * The static module graph (`deno info --json`, dynamic imports left out)
 * from the modules those runs always load may hold only the npm packages
 * named here; each of the others must stay behind a dynamic `import()`.
 */
import { assertEquals } from "../assert.ts";

const SRC = new URL("../../src/", import.meta.url);

/**
 * What src/main.ts and the command modules of install, uninstall and status
 * load on every run (connect.ts through `io.connectFirewalld`).
 */
const ALWAYS_LOADED = [
  "main.ts",
  "cli/cli.ts",
  "ops/run_lock.ts",
  "config/keys.ts",
  "os/bounded_read.ts",
  "host/system_facts.ts",
  "os/runner.ts",
  "systemd/self_command.ts",
  "ops/install.ts",
  "ops/uninstall.ts",
  "ops/status.ts",
  "config/resolve.ts",
  "firewalld/connect.ts",
];

/** The npm packages allowed on that path (the CLI parser and the schema). */
const ALLOWED_NPM = ["commander", "zod"];

interface InfoModule {
  specifier: string;
  kind?: string;
  npmPackage?: string;
  dependencies?: {
    code?: { specifier: string };
    isDynamic?: boolean;
  }[];
}

/** Every module reachable from `root` through static imports (type-only imports are erased). */
async function staticGraph(root: string): Promise<Set<string>> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", "--frozen", new URL(root, SRC).pathname],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
  const info = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    roots: string[];
    modules: InfoModule[];
    redirects: Record<string, string>;
  };
  const bySpecifier = new Map(info.modules.map((m) => [m.specifier, m]));
  const resolve = (s: string) => info.redirects[s] ?? s;
  const seen = new Set<string>();
  const visit = (specifier: string) => {
    const s = resolve(specifier);
    if (seen.has(s)) return;
    seen.add(s);
    for (const dep of bySpecifier.get(s)?.dependencies ?? []) {
      if (dep.code && !dep.isDynamic) visit(dep.code.specifier);
    }
  };
  for (const r of info.roots) visit(r);
  return seen;
}

/** `npm:/yaml@2.9.1` -> `yaml`; `node:fs` -> `node:fs`; our own modules are left out. */
function packageOf(specifier: string): string | null {
  const npm = /^npm:\/?((?:@[^/]+\/)?[^@/]+)/.exec(specifier);
  if (npm) return npm[1];
  return specifier.startsWith("node:") ? specifier : null;
}

Deno.test("install, uninstall and status load no npm package but commander and zod statically", async () => {
  for (const root of ALWAYS_LOADED) {
    const packages = new Set<string>();
    for (const s of await staticGraph(root)) {
      const p = packageOf(s);
      if (p !== null) packages.add(p);
    }
    const extra = [...packages].filter((p) => !ALLOWED_NPM.includes(p)).sort();
    assertEquals(extra, [], `src/${root} imports these statically`);
  }
});
