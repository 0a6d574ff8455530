/**
 * A lowdb data directory the server cannot trust is refused at open with a clear error, never
 * read as empty (which would answer as if every record were gone, then overwrite them).
 */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { Collection, shardFileName } from "../../src/storage/lowdb/collection.js";
import { tempDirPerTest } from "./storage-helpers.js";

const temp = tempDirPerTest();

const open = (shards: number, sub = "docs") =>
  Collection.open<{ id: string }>({ dir: path.join(temp.path, sub), shards, idOf: (d) => d.id, indexes: {} });

describe("lowdb collections refuse what they cannot trust", () => {
  it("refuses a shard count that is not a whole number from 1 to 4096", async () => {
    for (const shards of [0, -1, 1.5, Number.NaN, 4097]) {
      await expect(open(shards, `bad-${String(shards)}`), String(shards)).rejects.toThrow(`invalid shard count ${shards}`);
    }
    const ok = await open(3, "ok");
    await ok.put({ id: "a" });
    await ok.close();
  });

  it("refuses collection metadata of another format or shard count", async () => {
    for (const [name, meta] of [
      ["format-2", { format: 2, shards: 2 }],
      ["no-shards", { format: 1 }],
      ["zero-shards", { format: 1, shards: 0 }],
      ["fraction", { format: 1, shards: 1.5 }],
    ] as const) {
      await mkdir(path.join(temp.path, name), { recursive: true });
      await writeFile(path.join(temp.path, name, "meta.json"), JSON.stringify(meta));
      await expect(open(2, name), name).rejects.toThrow(`unsupported collection metadata in ${path.join(temp.path, name)}`);
    }
    await mkdir(path.join(temp.path, "null"), { recursive: true });
    await writeFile(path.join(temp.path, "null", "meta.json"), "null");
    await expect(open(2, "null")).rejects.toThrow(`corrupt store file ${path.join(temp.path, "null", "meta.json")}: it holds null`);
  });

  it("refuses a shard file that does not hold records", async () => {
    const first = await open(2, "docs");
    await first.put({ id: "a" });
    await first.close();
    for (const content of ["[]", "7", '"text"', '{"records": null}', '{"records": 5}', "{}"]) {
      await writeFile(path.join(temp.path, "docs", shardFileName(1)), content);
      await expect(open(2, "docs"), content).rejects.toThrow(`store file ${path.join(temp.path, "docs", shardFileName(1))} does not hold a shard`);
    }
    // null is not taken for a missing file, which would open the shard empty
    await writeFile(path.join(temp.path, "docs", shardFileName(1)), "null");
    await expect(open(2, "docs")).rejects.toThrow(`corrupt store file ${path.join(temp.path, "docs", shardFileName(1))}: it holds null`);
  });
});
