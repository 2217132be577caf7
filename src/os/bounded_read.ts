/**
 * The one way kuma-tproxy reads a file or stdin: only a regular file (or
 * stdin for `-`), never more than a fixed number of bytes, decoded as strict
 * UTF-8. `install --config /dev/zero` once grew the process to 24 GB until
 * the kernel's OOM killer stepped in, which on a real host may pick another
 * process. Here the size is checked with stat(2) first, and the read stops
 * one byte past the limit whatever stat said (files in /proc report size 0).
 *
 * @module
 */

const MiB = 1024 * 1024;

/**
 * Limit for what a person writes: config sources (files and stdin),
 * resolv.conf, firewalld.conf. The largest config a real host needs (a few
 * thousand exclusions) is well under 100 KiB.
 */
export const MAX_INPUT_BYTES = 1 * MiB;

/**
 * Limit for host databases that grow with the host: /etc/passwd (about 100
 * bytes per user) and firewalld's direct.xml (a few hundred bytes per rule).
 */
export const MAX_HOST_FILE_BYTES = 16 * MiB;

/** Why a read was refused. */
export type BoundedReadCode = "not_regular" | "too_large" | "invalid_utf8";

/**
 * A file or stream that kuma-tproxy refuses to read. `reason` and `expected`
 * complete a sentence that starts with the name, as in a ConfigError.
 *
 * @example
 * ```ts
 * import { BoundedReadError } from "./bounded_read.ts";
 * const e = new BoundedReadError("too_large", "/x", "is larger than 1 MiB", "at most 1 MiB");
 * if (e.message !== "/x is larger than 1 MiB (expected at most 1 MiB)") throw new Error();
 * ```
 */
export class BoundedReadError extends Error {
  constructor(
    readonly code: BoundedReadCode,
    /** The path, or "stdin". */
    readonly file: string,
    /** Predicate: "is not a regular file but a character device". */
    readonly reason: string,
    /** What would have been read: "a regular file of at most 1 MiB". */
    readonly expected: string,
    /** For invalid UTF-8: where the first bad byte is (1-based). */
    readonly position?: { line: number; column: number },
  ) {
    super(`${file} ${reason} (expected ${expected})`);
    this.name = "BoundedReadError";
  }
}

/** How to read. */
export interface BoundedReadOptions {
  /** The most bytes accepted; one more is refused. */
  maxBytes: number;
  /**
   * Replace invalid UTF-8 with U+FFFD instead of refusing: for files whose
   * parts we do not use and which may hold other encodings (a Latin-1 GECOS
   * field in /etc/passwd).
   */
  lossy?: boolean;
}

/** Anything with Deno's `read(buffer)`: a file, or `Deno.stdin`. */
export interface ByteReader {
  read(p: Uint8Array): Promise<number | null>;
}

/**
 * Reads a regular file (symlinks followed) as UTF-8 text, refusing
 * anything else and anything larger than `maxBytes`. A byte-order mark is
 * kept, as `Deno.readTextFile` keeps it, so a file written back is unchanged.
 * Errors from the file system (NotFound, PermissionDenied) are thrown as
 * Deno throws them.
 *
 * @example
 * ```ts
 * import { BoundedReadError, readTextFileBounded } from "./bounded_read.ts";
 * const path = await Deno.makeTempFile();
 * await Deno.writeTextFile(path, "nameserver 10.0.0.2\n");
 * if (!(await readTextFileBounded(path, { maxBytes: 1024 })).startsWith("nameserver")) {
 *   throw new Error();
 * }
 * await readTextFileBounded("/dev/zero", { maxBytes: 1024 }).then(
 *   () => { throw new Error("read /dev/zero"); },
 *   (e) => { if (!(e instanceof BoundedReadError) || e.code !== "not_regular") throw e; },
 * );
 * await Deno.remove(path);
 * ```
 */
export async function readTextFileBounded(
  path: string,
  options: BoundedReadOptions,
): Promise<string> {
  const special = (e: unknown) => Promise.reject(specialFileError(e, path, options.maxBytes));
  // stat before open: opening a FIFO would block until a writer appears.
  assertRegular(path, await Deno.stat(path).catch(special), options.maxBytes);
  using file = await Deno.open(path, { read: true }).catch(special);
  // The path may have been replaced between stat and open.
  assertRegular(path, await file.stat(), options.maxBytes);
  return decodeUtf8(await readBounded(file, path, options.maxBytes), path, options);
}

/**
 * Reads a stream (stdin) to its end as UTF-8 text, stopping with an error
 * once it has given more than `maxBytes`: `--config - < /dev/zero` ends.
 *
 * @example
 * ```ts
 * import { readTextBounded } from "./bounded_read.ts";
 * const bytes = new TextEncoder().encode("verbose: true\n");
 * let done = false;
 * const reader = {
 *   read(p: Uint8Array) {
 *     if (done) return Promise.resolve(null);
 *     done = true;
 *     p.set(bytes);
 *     return Promise.resolve(bytes.length);
 *   },
 * };
 * if (await readTextBounded(reader, "stdin", { maxBytes: 1024 }) !== "verbose: true\n") {
 *   throw new Error();
 * }
 * ```
 */
export async function readTextBounded(
  reader: ByteReader,
  name: string,
  options: BoundedReadOptions,
): Promise<string> {
  return decodeUtf8(await readBounded(reader, name, options.maxBytes), name, options);
}

/** "1 MiB", "16 MiB", "512 bytes". */
export function formatBytes(n: number): string {
  return n >= MiB && n % MiB === 0 ? `${n / MiB} MiB` : `${n} bytes`;
}

function limitText(maxBytes: number): string {
  return `at most ${formatBytes(maxBytes)}`;
}

function fileType(info: Deno.FileInfo): string {
  if (info.isDirectory) return "a directory";
  if (info.isCharDevice) return "a character device";
  if (info.isBlockDevice) return "a block device";
  if (info.isFifo) return "a named pipe";
  if (info.isSocket) return "a socket";
  return "not a regular file";
}

/** The names of stdin that are not `-`. */
const STDIN_NAMES = new Set(["/dev/stdin", "/dev/fd/0", "/proc/self/fd/0"]);

/**
 * Deno's refusal of a kernel special file, as what is wrong with the path.
 * Without --allow-all, Deno refuses /proc/self/mem, /dev/stdin and their
 * like (NotCapable, "run again with the --allow-all flag", at stat or, for
 * a symlink to one, at open): advice for the author of a Deno program, not
 * for whoever typed the path. Anything else is returned as it is.
 */
function specialFileError(e: unknown, path: string, maxBytes: number): unknown {
  if (!(e instanceof Deno.errors.NotCapable)) return e;
  // Deno names the path a symlink led to: `Requires all access to "/proc/42/mem"`.
  const target = /"([^"]*)"/.exec(e.message)?.[1];
  if (STDIN_NAMES.has(path) || (target !== undefined && STDIN_NAMES.has(target))) {
    return new BoundedReadError("not_regular", path, "is stdin by another name", "- for stdin");
  }
  const via = target && target !== path ? ` (it leads to ${target})` : "";
  return new BoundedReadError(
    "not_regular",
    path,
    `is a special file of the kernel, not a config file${via}`,
    `a regular file of ${limitText(maxBytes)}`,
  );
}

function assertRegular(path: string, info: Deno.FileInfo, maxBytes: number): void {
  if (!info.isFile) {
    const type = fileType(info);
    throw new BoundedReadError(
      "not_regular",
      path,
      type.startsWith("a ") ? `is not a regular file but ${type}` : "is not a regular file",
      `a regular file of ${limitText(maxBytes)}`,
    );
  }
  if (info.size > maxBytes) throw tooLarge(path, maxBytes, info.size);
}

function tooLarge(name: string, maxBytes: number, size?: number): BoundedReadError {
  const what = size === undefined ? "more" : `${size} bytes, more`;
  return new BoundedReadError(
    "too_large",
    name,
    `is ${what} than the limit of ${formatBytes(maxBytes)}`,
    limitText(maxBytes),
  );
}

const CHUNK = 64 * 1024;

/** Reads to the end, but never more than maxBytes + 1 bytes. */
async function readBounded(reader: ByteReader, name: string, maxBytes: number) {
  const chunks: Uint8Array[] = [];
  let total = 0;
  while (true) {
    // One byte past the limit tells "exactly the limit" from "more".
    const room = maxBytes + 1 - total;
    if (room <= 0) throw tooLarge(name, maxBytes);
    const chunk = new Uint8Array(Math.min(CHUNK, room));
    const n = await reader.read(chunk);
    if (n === null) break;
    chunks.push(chunk.subarray(0, n));
    total += n;
  }
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.length;
  }
  return bytes;
}

/**
 * Decodes UTF-8, refusing invalid bytes (unless `lossy`) with the line and
 * column of the first one, instead of silently turning them into U+FFFD.
 *
 * @example
 * ```ts
 * import { BoundedReadError, decodeUtf8 } from "./bounded_read.ts";
 * try {
 *   decodeUtf8(new Uint8Array([0x61, 0x0a, 0x62, 0xff]), "/tp.yaml");
 *   throw new Error("accepted");
 * } catch (e) {
 *   if (!(e instanceof BoundedReadError) || e.position?.line !== 2 || e.position.column !== 2) {
 *     throw e;
 *   }
 * }
 * ```
 */
export function decodeUtf8(
  bytes: Uint8Array,
  name: string,
  options: { lossy?: boolean } = {},
): string {
  try {
    return new TextDecoder("utf-8", { fatal: !options.lossy, ignoreBOM: true }).decode(bytes);
  } catch (e) {
    if (!(e instanceof TypeError)) throw e;
    const position = firstInvalid(bytes);
    throw new BoundedReadError(
      "invalid_utf8",
      name,
      `is not valid UTF-8 at line ${position.line}, column ${position.column}`,
      "UTF-8 text",
      position,
    );
  }
}

/** Line and column (in characters) of the first invalid UTF-8 sequence. */
function firstInvalid(bytes: Uint8Array): { line: number; column: number } {
  // A newline byte never occurs inside a multi-byte sequence, so each line
  // can be checked on its own; then the bad line byte by byte.
  let start = 0;
  let line = 1;
  while (true) {
    const nl = bytes.indexOf(0x0a, start);
    const end = nl < 0 ? bytes.length : nl;
    const column = invalidColumn(bytes.subarray(start, end));
    if (column !== undefined || nl < 0) return { line, column: column ?? end - start + 1 };
    start = nl + 1;
    line++;
  }
}

function invalidColumn(line: Uint8Array): number | undefined {
  const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  let column = 1;
  for (let i = 0; i < line.length; i++) {
    try {
      column += [...decoder.decode(line.subarray(i, i + 1), { stream: true })].length;
    } catch {
      return column;
    }
  }
  try {
    decoder.decode();
  } catch {
    // A sequence cut off at the end of the line.
    return column;
  }
  return undefined;
}
