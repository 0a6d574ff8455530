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
import { verifyCopy } from "../../src/storage/archive/verify.js";
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

  it("verifying a move finds counts, threads and store items that differ", async () => {
    const source = await embedded();
    await fillStorage(source);
    const pg = await postgres();
    await copyStorage(source, pg);
    const stateRead = { what: "state", read: async (s: Storage, id: string) => (await s.threads.get(id)).values };
    const clean = await verifyCopy(source, pg, { sampleSize: 10, exactCounts: true, threadReads: [stateRead] });
    expect(clean).toMatchObject({ problems: [], sampled: { threads: 2, storeItems: 2 } });
    const thread = (await source.threads.search({ filter: { metadata: { owner: "u1" } } })).items[0];
    await pg.threads.update(thread.thread_id, { values: { messages: ["changed"] } });
    await pg.checkpoints.pruneKeepLatest(thread.thread_id);
    await pg.storeItems.put({ namespace: ["docs"], key: "b", value: { text: "other" }, ttl_minutes: null, vectors: [] });
    await pg.crons.create({
      assistant_id: "a",
      thread_id: null,
      schedule: "* * * * *",
      timezone: null,
      end_time: null,
      payload: {},
      next_run_date: null,
    });
    const report = await verifyCopy(source, pg, { sampleSize: 10, exactCounts: true, threadReads: [stateRead] });
    expect(report.problems).toContain('store item ["docs","b"] differs (source / target at .value.text: "beta" / "other")');
    expect(report.problems.map((p) => p.replace(/ \(source \/ target at .*\)$/, "")).sort()).toEqual(
      [
        "checkpoint: 3 in the source, 1 in the target",
        "checkpoint_writes: 2 in the source, 1 in the target",
        "cron: 1 in the source, 2 in the target",
        `thread ${thread.thread_id}: its thread differs`,
        `thread ${thread.thread_id}: its history differs`,
        `thread ${thread.thread_id}: its state differs`,
        'store item ["docs","b"] differs',
      ].sort(),
    );
  });

  it("moves runs stored before `handoffs` existed (none means 0) and verifies them", async () => {
    const source = await embedded();
    await fillStorage(source);
    const runs = await source.archive.snapshot(async (view) => {
      const all = [];
      for await (const batch of view.records("run", 100)) all.push(...batch);
      return all;
    });
    await source.archive.restore(
      "run",
      runs.map(({ handoffs: _handoffs, ...run }) => run),
      { replace: true },
    );
    const pg = await postgres();
    await copyStorage(source, pg);
    expect((await verifyCopy(source, pg, { sampleSize: 10, exactCounts: true })).problems).toEqual([]);
    expect((await contents(pg)).run.map((r) => r.handoffs)).toEqual([0, 0, 0]);
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
