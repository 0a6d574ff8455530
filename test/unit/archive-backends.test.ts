/**
 * Moves between backends: everything an embedded store holds, copied into PostgreSQL, reads the
 * same there, and the reverse move (PostgreSQL to embedded) gives it back; an archive taken from
 * one backend imports into the other.
 */
import { PassThrough } from "node:stream";
import { gunzipSync } from "node:zlib";
import { afterEach, describe, expect, it } from "vitest";
import { copyStorage } from "../../src/storage/archive/copy.js";
import { writeArchive } from "../../src/storage/archive/export.js";
import { importArchive } from "../../src/storage/archive/import.js";
import { LowdbStorage } from "../../src/storage/lowdb/storage.js";
import { PostgresStorage } from "../../src/storage/postgres/storage.js";
import type { Storage } from "../../src/storage/types.js";
import { createTestDatabase } from "../support/postgres.js";
import { contents, differingKinds, fillStorage } from "./archive-fill.js";
import { tempDir, TEST_SHARDS } from "./storage-helpers.js";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function embedded(): Promise<Storage> {
  const { dir, cleanup } = await tempDir();
  const storage = await LowdbStorage.open({ dataDir: dir, shards: TEST_SHARDS });
  cleanups.push(async () => {
    await storage.close();
    await cleanup();
  });
  return storage;
}

async function postgres(): Promise<Storage> {
  const database = await createTestDatabase();
  const storage = await PostgresStorage.open({ uri: database.uri, poolMax: 4 });
  cleanups.push(async () => {
    await storage.close();
    await database.drop();
  });
  return storage;
}

describe("moving data between backends", () => {
  it("embedded -> PostgreSQL -> embedded keeps every record", async () => {
    const source = await embedded();
    await fillStorage(source);
    const pg = await postgres();
    await copyStorage(source, pg);
    const original = await contents(source);
    expect(differingKinds(original, await contents(pg))).toEqual([]);
    const back = await embedded();
    await copyStorage(pg, back);
    expect(differingKinds(original, await contents(back))).toEqual([]);
  });

  it("an archive of PostgreSQL imports into the embedded store", async () => {
    const pg = await postgres();
    await fillStorage(pg);
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on("data", (c: Buffer) => chunks.push(c));
    await writeArchive(pg, out);
    const target = await embedded();
    await importArchive(target, [gunzipSync(Buffer.concat(chunks))]);
    expect(differingKinds(await contents(pg), await contents(target))).toEqual([]);
  });
});
