/**
 * Shard files' text goes to and from disk a chunk at a time through a few kept buffers
 * (src/storage/lowdb/file-text.ts): what is read back is exactly what was written, whatever
 * characters straddle a chunk's edge and however many files are written at once.
 */
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { DurableJsonFile, nodeFileIO, type FileIO } from "../../src/storage/lowdb/durable-file.js";
import { readFileText } from "../../src/storage/lowdb/file-text.js";
import { tempDirPerTest } from "./storage-helpers.js";

const CHUNK_BYTES = 64 * 1024;
const PIECE_UNITS = Math.floor(CHUNK_BYTES / 3);

/** Node's file calls, with the bytes each write carried. */
function writeSizes(): { io: FileIO; sizes: number[] } {
  const sizes: number[] = [];
  const io: FileIO = {
    async open(file, flags) {
      const fh = await nodeFileIO.open(file, flags);
      return {
        writeFile: (data, encoding) => (sizes.push(Buffer.byteLength(data)), fh.writeFile(data, encoding)),
        write: (buffer, offset, length, position) => (sizes.push(length), fh.write(buffer, offset, length, position)),
        sync: () => fh.sync(),
        datasync: () => fh.datasync(),
        close: () => fh.close(),
      };
    },
    rename: nodeFileIO.rename,
  };
  return { io, sizes };
}

describe("shard file text, a chunk at a time", () => {
  const dir = tempDirPerTest("lgts-file-text-");

  const texts: Record<string, string> = {
    empty: "",
    "a surrogate pair across a written piece's edge": "a".repeat(PIECE_UNITS - 1) + "😀" + "b".repeat(10),
    "a 3-byte character across a read chunk's edge": "a".repeat(CHUNK_BYTES - 1) + "€" + "b".repeat(10),
    "a 4-byte character across a read chunk's edge": "a".repeat(CHUNK_BYTES - 2) + "😀",
    "exactly one chunk": "a".repeat(CHUNK_BYTES),
    "several chunks of mixed text": "é€😀x\n".repeat(50_000),
  };
  for (const [name, text] of Object.entries(texts)) {
    it(`writes and reads back ${name}`, async () => {
      const file = path.join(dir.path, "000.json");
      await new DurableJsonFile(file).writeText(text);
      expect(await readFile(file, "utf8")).toBe(text);
      await writeFile(file, text); // written by node itself: read back the same
      expect(await readFileText(file)).toBe(text);
    });
  }

  it("moves at most a chunk per file call", async () => {
    const { io, sizes } = writeSizes();
    const text = "é€😀x".repeat(40_000);
    await new DurableJsonFile(path.join(dir.path, "000.json"), io).writeText(text);
    expect(sizes.length).toBeGreaterThan(1);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(CHUNK_BYTES);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(Buffer.byteLength(text));
  });

  for (const [name, text] of Object.entries(texts)) {
    it(`appends ${name} at a file's end, in place`, async () => {
      const file = path.join(dir.path, "000.json");
      const adapter = new DurableJsonFile(file);
      await adapter.writeText('{"records":{"a":"é€😀"}}');
      const size = await adapter.framedSize('{"records":{', "}}");
      expect(size).toBe(Buffer.byteLength('{"records":{"a":"é€😀"}}'));
      await adapter.appendText(size!, `\n${text}`);
      expect(await readFile(file, "utf8")).toBe(`{"records":{"a":"é€😀"}}\n${text}`);
    });
  }

  it("frames only a file with that opening and closing", async () => {
    const adapter = new DurableJsonFile(path.join(dir.path, "000.json"));
    expect(await adapter.framedSize("{", "}")).toBeNull(); // no file
    for (const [text, framed] of [
      ["{}", true],
      ["{x}", true],
      ["{x", false],
      ["x}", false],
      ["}", false],
    ] as const) {
      await adapter.writeText(text);
      expect(await adapter.framedSize("{", "}")).toBe(framed ? text.length : null);
    }
  });

  it("reads no file as null", async () => {
    expect(await readFileText(path.join(dir.path, "missing.json"))).toBeNull();
  });

  it("writes and reads many files at once, more than it has buffers", async () => {
    const files = Array.from({ length: 100 }, (_, i) => ({ file: path.join(dir.path, `${i}.json`), text: `${i}:` + "é€😀x".repeat(5_000 + i) }));
    await Promise.all(files.map(({ file, text }) => new DurableJsonFile(file).writeText(text)));
    const read = await Promise.all(files.map(({ file }) => readFileText(file)));
    expect(read).toEqual(files.map(({ text }) => text));
  });
});
