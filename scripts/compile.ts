/**
 * `deno task compile [--target T] [--allow-download]`: builds
 * `dist/kuma-tproxy-<target>` with `deno compile`, the permissions of
 * scripts/permissions.txt baked in, and writes a SHA-256 checksum beside it.
 * The version comes from deno.json through src/version.ts, which the compiled
 * module graph embeds.
 *
 * `deno compile` starts from `denort`, a runtime binary it normally downloads.
 * Our build hosts cannot download it, so without `DENORT_BIN` (which Deno
 * itself reads, before it would download) we stop at once and say how to get
 * one, instead of letting Deno hang on the network. `--allow-download` is for
 * connected machines such as GitHub's release runners.
 */

/** The CLI's entry point; the binary runs exactly what scripts/kuma-tproxy runs. */
export const ENTRY = "src/main.ts";
export const TARGETS = ["x86_64-unknown-linux-gnu", "aarch64-unknown-linux-gnu"] as const;
export type Target = typeof TARGETS[number];

/** ELF e_machine values, to catch a denort built for the other architecture. */
const ELF_MACHINE: Record<Target, number> = {
  "x86_64-unknown-linux-gnu": 62,
  "aarch64-unknown-linux-gnu": 183,
};

/** A build that cannot start; `main` prints the message and exits 1. */
export class CompileError extends Error {
  override name = "CompileError";
}

/**
 * The permission flags of a permissions.txt: one per line, `#` comment lines
 * and blank lines ignored (the same filter as scripts/kuma-tproxy).
 *
 * @example
 * ```ts
 * import { parsePermissions } from "./compile.ts";
 * const flags = parsePermissions("# why\n--allow-read\n\n  --allow-sys=uid  \n");
 * if (flags.join(" ") !== "--allow-read --allow-sys=uid") throw new Error();
 * ```
 */
export function parsePermissions(text: string): string[] {
  const flags = text.split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
  for (const f of flags) {
    if (!f.startsWith("--allow-") || f === "--allow-all" || /\s/.test(f)) {
      throw new CompileError(
        `permissions.txt: "${f}" is not allowed: expected one --allow-<kind>[=list] flag per line, never --allow-all`,
      );
    }
  }
  return flags;
}

export interface CompileArgs {
  target: Target;
  allowDownload: boolean;
}

/** Parses `[--target T] [--allow-download]`. */
export function parseArgs(args: string[]): CompileArgs {
  const out: CompileArgs = { target: TARGETS[0], allowDownload: false };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const value = a.startsWith("--target=") ? a.slice(9) : a === "--target" ? args[++i] : null;
    if (value !== null) {
      if (!(TARGETS as readonly string[]).includes(value)) {
        throw new CompileError(
          `--target: "${value}" is not supported (expected ${TARGETS.join(" or ")})`,
        );
      }
      out.target = value as Target;
    } else if (a === "--allow-download") out.allowDownload = true;
    else throw new CompileError(`unknown argument "${a}" (expected --target T, --allow-download)`);
  }
  return out;
}

/** How to get a denort onto an air-gapped build host. */
export function denortHelp(target: Target, denoVersion: string): string {
  return [
    `deno compile needs denort (the Deno runtime it builds on) for ${target}, and DENORT_BIN is`,
    `not set. Deno would download it, which an air-gapped build host cannot. On a connected`,
    `machine, download denort-${target}.zip of Deno v${denoVersion} (the version of ./scripts/deno):`,
    `  https://dl.deno.land/release/v${denoVersion}/denort-${target}.zip`,
    `  (the same file is a release asset at https://github.com/denoland/deno/releases/tag/v${denoVersion})`,
    `Check its checksum, unzip it, copy the denort file to the build host, and run:`,
    `  DENORT_BIN=/path/to/denort deno task compile --target ${target}`,
    `On a machine with internet access, pass --allow-download instead.`,
  ].join("\n");
}

/** The ELF machine number of a file, or undefined if it is not an ELF file. */
export function elfMachine(head: Uint8Array): number | undefined {
  const magic = head[0] === 0x7f && head[1] === 0x45 && head[2] === 0x4c && head[3] === 0x46;
  if (!magic || head.length < 20) return undefined;
  return head[18] | (head[19] << 8); // e_machine, little-endian on both targets
}

/** Fails unless `path` is a readable ELF executable for `target`. */
export async function checkDenort(path: string, target: Target): Promise<void> {
  let head: Uint8Array;
  try {
    using file = await Deno.open(path);
    head = new Uint8Array(20);
    await file.read(head);
  } catch (e) {
    throw new CompileError(`DENORT_BIN: cannot read "${path}": ${(e as Error).message}`);
  }
  const machine = elfMachine(head);
  if (machine === undefined) throw new CompileError(`DENORT_BIN: "${path}" is not an ELF binary`);
  if (machine !== ELF_MACHINE[target]) {
    const other = TARGETS.find((t) => ELF_MACHINE[t] === machine) ?? `ELF machine ${machine}`;
    throw new CompileError(
      `DENORT_BIN: "${path}" is built for ${other}, not ${target}: use denort-${target}.zip`,
    );
  }
}

/** `sha256sum`-format line for `name` with the digest of `bytes`. */
export async function sha256Line(bytes: Uint8Array<ArrayBuffer>, name: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  const hex = Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex}  ${name}\n`;
}

/** The full `deno compile` argv (without the executable). */
export function compileArgv(target: Target, permissions: string[], output: string): string[] {
  return [
    "compile",
    "--frozen",
    "--no-prompt",
    "--target",
    target,
    "--output",
    output,
    ...permissions,
    ENTRY,
  ];
}

async function main(args: string[]): Promise<number> {
  const root = new URL("..", import.meta.url);
  const { target, allowDownload } = parseArgs(args);
  const permissions = parsePermissions(
    await Deno.readTextFile(new URL("scripts/permissions.txt", root)),
  );
  const denort = Deno.env.get("DENORT_BIN");
  if (denort) await checkDenort(denort, target);
  else if (!allowDownload) throw new CompileError(denortHelp(target, Deno.version.deno));

  const name = `kuma-tproxy-${target}`;
  const output = `dist/${name}`;
  await Deno.mkdir(new URL("dist", root), { recursive: true });
  const r = await new Deno.Command(Deno.execPath(), {
    args: compileArgv(target, permissions, output),
    cwd: root,
    stdin: "null",
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (r.code !== 0) throw new CompileError(`deno compile failed (exit ${r.code}), see above`);

  const binary = await Deno.readFile(new URL(output, root));
  await Deno.writeTextFile(new URL(`${output}.sha256`, root), await sha256Line(binary, name));
  console.log(`compile: wrote ${output} and ${output}.sha256`);
  return 0;
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (e) {
    if (!(e instanceof CompileError)) throw e;
    console.error(`compile: ${e.message}`);
    Deno.exit(1);
  }
}
