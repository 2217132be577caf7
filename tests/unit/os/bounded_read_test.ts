import { assert, assertEquals, assertRejects, assertThrows } from "../../assert.ts";
import { withTempDir } from "../../temp_dir.ts";
import {
  BoundedReadError,
  type ByteReader,
  decodeUtf8,
  readTextBounded,
  readTextFileBounded,
} from "../../../src/os/bounded_read.ts";

const withTemp = (fn: (dir: string) => Promise<void>) => withTempDir("ktp-bounded-", fn);

/** An endless stream of `a`s that counts what it gave: /dev/zero on stdin. */
function endless(): ByteReader & { given: number } {
  const reader = {
    given: 0,
    read(p: Uint8Array) {
      p.fill(0x61);
      reader.given += p.length;
      return Promise.resolve(p.length);
    },
  };
  return reader;
}

Deno.test("readTextFileBounded() reads a regular file up to exactly the limit", async () => {
  await withTemp(async (dir) => {
    await Deno.writeTextFile(`${dir}/ok`, "x".repeat(100));
    assertEquals(await readTextFileBounded(`${dir}/ok`, { maxBytes: 100 }), "x".repeat(100));
  });
});

Deno.test("readTextFileBounded() refuses a file one byte over the limit", async () => {
  await withTemp(async (dir) => {
    await Deno.writeTextFile(`${dir}/big`, "x".repeat(101));
    const e = await assertRejects(
      () => readTextFileBounded(`${dir}/big`, { maxBytes: 100 }),
      BoundedReadError,
    );
    assertEquals(e.code, "too_large");
    assertEquals(e.reason, "is 101 bytes, more than the limit of 100 bytes");
  });
});

Deno.test("readTextFileBounded() refuses devices, directories and FIFOs without reading them", async () => {
  await withTemp(async (dir) => {
    const fifo = `${dir}/fifo`;
    const mk = await new Deno.Command("mkfifo", { args: [fifo] }).output();
    assert(mk.success, "mkfifo");
    // Opening a FIFO with no writer would block: the stat comes first.
    for (
      const [path, type] of [
        ["/dev/zero", "a character device"],
        [dir, "a directory"],
        [fifo, "a named pipe"],
      ]
    ) {
      const e = await assertRejects(
        () => readTextFileBounded(path, { maxBytes: 1024 }),
        BoundedReadError,
      );
      assertEquals([e.code, e.reason], ["not_regular", `is not a regular file but ${type}`]);
      assertEquals(e.expected, "a regular file of at most 1024 bytes");
    }
  });
});

Deno.test("readTextFileBounded() follows symlinks and passes file system errors on", async () => {
  await withTemp(async (dir) => {
    await Deno.writeTextFile(`${dir}/target`, "nameserver 10.0.0.2\n");
    await Deno.symlink(`${dir}/target`, `${dir}/link`);
    assertEquals(
      await readTextFileBounded(`${dir}/link`, { maxBytes: 64 }),
      "nameserver 10.0.0.2\n",
    );
    await assertRejects(
      () => readTextFileBounded(`${dir}/missing`, { maxBytes: 64 }),
      Deno.errors.NotFound,
    );
  });
});

Deno.test("readTextBounded() stops reading an endless stream one byte past the limit", async () => {
  const stream = endless();
  const e = await assertRejects(
    () => readTextBounded(stream, "stdin", { maxBytes: 1024 * 1024 }),
    BoundedReadError,
  );
  assertEquals([e.code, e.file], ["too_large", "stdin"]);
  assertEquals(e.message, "stdin is more than the limit of 1 MiB (expected at most 1 MiB)");
  assertEquals(stream.given, 1024 * 1024 + 1);
});

Deno.test("decodeUtf8() refuses invalid UTF-8 with the line and column of the first bad byte", () => {
  const text = new TextEncoder().encode("verbose: true\n# héllo ");
  const bytes = new Uint8Array([...text, 0xe9, 0x0a, 0xff]);
  const e = assertThrows(() => decodeUtf8(bytes, "/tp.yaml"), BoundedReadError);
  assertEquals(e.code, "invalid_utf8");
  // "# héllo " is 8 characters (é is one, though two bytes).
  assertEquals(e.position, { line: 2, column: 9 });
  assertEquals(e.reason, "is not valid UTF-8 at line 2, column 9");
});

Deno.test("decodeUtf8() finds a multi-byte sequence cut off at the end", () => {
  const bytes = new Uint8Array([0x61, 0x62, 0xc3]);
  const e = assertThrows(() => decodeUtf8(bytes, "stdin"), BoundedReadError);
  assertEquals(e.position, { line: 1, column: 3 });
});

Deno.test("decodeUtf8() keeps a byte-order mark and replaces bad bytes only when lossy", () => {
  assertEquals(decodeUtf8(new Uint8Array([0xef, 0xbb, 0xbf, 0x61]), "/x"), "\ufeffa");
  assertEquals(decodeUtf8(new Uint8Array([0x61, 0xe9]), "/etc/passwd", { lossy: true }), "a\ufffd");
});

Deno.test("every file and stdin read in src/ goes through bounded_read.ts", async () => {
  const root = new URL("../../../src/", import.meta.url);
  // Unbounded ways to read; Deno.open is fine for writing (direct.xml's temp file).
  const UNBOUNDED = /Deno\.read(Text)?File(Sync)?\b|Deno\.stdin\.readable|readAll\(|\.text\(\)/;
  const offenders: string[] = [];
  const walk = async (dir: URL) => {
    for await (const entry of Deno.readDir(dir)) {
      const url = new URL(entry.name + (entry.isDirectory ? "/" : ""), dir);
      if (entry.isDirectory) await walk(url);
      else if (entry.name.endsWith(".ts") && !url.pathname.endsWith("/os/bounded_read.ts")) {
        const text = await readTextFileBounded(url.pathname, { maxBytes: 1024 * 1024 });
        if (UNBOUNDED.test(text)) offenders.push(url.pathname.slice(root.pathname.length));
      }
    }
  };
  await walk(root);
  assertEquals(offenders, []);
});
