/**
 * How the boot unit starts this same program again, by absolute path.
 *
 * @module
 */

/** What the process knows about how it was started. */
export interface RuntimeFacts {
  /** `Deno.build.standalone`: true in a binary made by `deno compile`. */
  standalone: boolean;
  /** `Deno.execPath()`: the binary when compiled, the deno runtime from source. */
  execPath: string;
  /** `import.meta.url` of src/main.ts. */
  mainModule: string;
}

/**
 * The command for ExecStart. Compiled, it is the binary itself. From source,
 * `execPath` is the deno runtime, which would run without our permissions
 * and entry point, so it is scripts/kuma-tproxy next to src/ (the runner that
 * applies scripts/permissions.txt exactly as the binary does).
 *
 * @example
 * ```ts
 * import { selfCommand } from "./self_command.ts";
 * const fromSource = selfCommand({
 *   standalone: false,
 *   execPath: "/opt/kt/.tools/deno",
 *   mainModule: "file:///opt/kt/src/main.ts",
 * });
 * if (fromSource[0] !== "/opt/kt/scripts/kuma-tproxy") throw new Error(fromSource[0]);
 * ```
 */
export function selfCommand(facts: RuntimeFacts): string[] {
  if (facts.standalone) return [facts.execPath];
  return [decodeURIComponent(new URL("../scripts/kuma-tproxy", facts.mainModule).pathname)];
}
