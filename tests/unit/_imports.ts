/** The .ts files of src/ and the imports each makes, for layers_test.ts and import_cycles_test.ts. */

const IMPORT =
  /(?:^|\n)\s*(?:import|export)\b[^'"]*?\bfrom\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g;

export async function sourceFiles(dir: URL, out: URL[] = []): Promise<URL[]> {
  for await (const entry of Deno.readDir(dir)) {
    const url = new URL(entry.name + (entry.isDirectory ? "/" : ""), dir);
    if (entry.isDirectory) await sourceFiles(url, out);
    else if (entry.name.endsWith(".ts")) out.push(url);
  }
  return out;
}

/** The imports of a module's code, JSDoc examples (comment lines) left out. */
export function importsOf(text: string): string[] {
  const code = text.split("\n").filter((l) => !/^\s*(\*|\/\/)/.test(l)).join("\n");
  return [...code.matchAll(IMPORT)].map((m) => m[1] ?? m[2]);
}
