/**
 * The archive contract, on every backend: a snapshot holds everything stored at one moment, read
 * a batch at a time; restores store records as they are; an exported archive imported into an
 * empty storage gives back the same records; imports refuse to overwrite unless asked, and
 * refuse truncated or newer archives.
 */
import { PassThrough } from "node:stream";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { writeArchive } from "../../src/storage/archive/export.js";
import { importArchive } from "../../src/storage/archive/import.js";
import { ConflictError } from "../../src/storage/errors.js";
import type { Storage } from "../../src/storage/types.js";
import { contents, differingKinds, fillStorage } from "./archive-fill.js";
import { tempStoragePerTest } from "./storage-helpers.js";

const open = tempStoragePerTest();

async function archiveBytes(storage: Storage): Promise<Buffer> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on("data", (c: Buffer) => chunks.push(c));
  await writeArchive(storage, out);
  return Buffer.concat(chunks);
}

async function* bytes(buffer: Buffer): AsyncGenerator<Buffer> {
  const { gunzipSync } = await import("node:zlib");
  yield gunzipSync(buffer);
}

describe("storage archive", () => {
  it("snapshots every kind of record, a batch at a time, each exactly once", async () => {
    const { storage } = await open();
    await fillStorage(storage);
    const counts = await storage.archive.snapshot((view) => view.counts());
    expect(counts).toEqual({ assistant: 1, thread: 2, checkpoint: 3, checkpoint_writes: 2, run: 3, cron: 1, store_item: 2, webhook: 1 });
    const all = await contents(storage, 1);
    expect(all.assistant[0].versions.map((v) => v.version)).toEqual([1, 2]);
    expect(all.assistant[0].assistant).toMatchObject({ name: "second", version: 2 });
    expect(all.thread.find((t) => t.ttl)?.ttl).toEqual({ strategy: "delete", ttl: 60 });
    const writes = all.checkpoint_writes.find((w) => w.checkpoint_id === "cp-2")!.writes;
    expect(writes.map((w) => `${w.task_id}${w.idx}`)).toEqual(["b0", "a1", "a0"]);
    expect(all.checkpoint_writes.map((w) => w.checkpoint_id).sort()).toEqual(["cp-2", "cp-not-yet"]);
    expect(all.run.map((r) => r.status).sort()).toEqual(["error", "pending", "running"]);
    expect(all.run.find((r) => r.status === "running")!.attempt).toBe(2);
    expect(all.cron[0]).toMatchObject({ auth_user: { identity: "u1" }, next_run_date: "2030-01-01T00:05:00.000Z", timezone: "Europe/Paris" });
    expect(all.store_item.find((i) => i.key === "a")!.vectors).toEqual([{ field: "text", vector: [1, 0.5, -2] }]);
    expect(all.store_item.find((i) => i.key === "b")).toMatchObject({ ttl_minutes: 90, vectors: [] });
    expect(all.webhook[0]).toMatchObject({ url: "http://127.0.0.1:9/hook", payload: { status: "error" } });
  });

  it("is a view of one moment: writes made while it is read are not in it", async () => {
    const { storage } = await open();
    for (let n = 0; n < 5; n++) await storage.threads.create();
    const seen = await storage.archive.snapshot(async (view) => {
      const ids: string[] = [];
      for await (const batch of view.records("thread", 2)) {
        ids.push(...batch.map((t) => t.thread_id));
        await storage.threads.create();
      }
      return { ids, counted: (await view.counts()).thread };
    });
    expect(seen.counted).toBe(5);
    expect(new Set(seen.ids).size).toBe(5);
    expect(await storage.threads.count()).toBe(8);
  });

  it("export then import into an empty storage gives back the same records, which serve reads", async () => {
    const source = (await open()).storage;
    await fillStorage(source);
    const archive = await archiveBytes(source);
    const target = (await open()).storage;
    const counts = await importArchive(target, bytes(archive));
    expect(counts.checkpoint).toBe(3);
    expect(differingKinds(await contents(source), await contents(target))).toEqual([]);
    // what the API reads through the repositories
    const thread = (await source.threads.search({ filter: { metadata: { owner: "u1" } } })).items[0];
    expect(await target.threads.get(thread.thread_id)).toEqual(await source.threads.get(thread.thread_id));
    expect(await target.checkpoints.list({ thread_id: thread.thread_id })).toEqual(await source.checkpoints.list({ thread_id: thread.thread_id }));
    expect((await target.runs.list(thread.thread_id, { limit: 10 })).items).toEqual((await source.runs.list(thread.thread_id, { limit: 10 })).items);
    const query = { namespacePrefix: ["docs"], queryVector: [1, 0.5, -2], limit: 5 };
    expect(await target.storeItems.search(query)).toEqual(await source.storeItems.search(query));
    expect(await target.crons.enabled()).toEqual(await source.crons.enabled());
    expect(await target.webhooks.claim("p", 5, 1000)).toHaveLength(1);
  });

  it("refuses to import into a storage holding data unless asked to overwrite", async () => {
    const source = (await open()).storage;
    await fillStorage(source);
    const archive = await archiveBytes(source);
    const target = (await open()).storage;
    await target.threads.create({ thread_id: "already-here" });
    await expect(importArchive(target, bytes(archive))).rejects.toThrow(/already holds data \(1 thread\).*--overwrite/);
    expect(await target.threads.count()).toBe(1);
    await importArchive(target, bytes(archive), { replace: true });
    await importArchive(target, bytes(archive), { replace: true });
    expect(await target.threads.count()).toBe(3);
    expect(differingKinds(await contents(source), { ...(await contents(target)), thread: (await contents(source)).thread })).toEqual([]);
  });

  it("restore refuses a taken id and then writes nothing of the batch", async () => {
    const { storage } = await open();
    const taken = await storage.threads.create();
    const fresh = { ...taken, thread_id: "fresh" };
    await expect(storage.archive.restore("thread", [fresh, { ...taken, metadata: { changed: true } }])).rejects.toBeInstanceOf(ConflictError);
    expect(await storage.threads.count()).toBe(1);
    await storage.archive.restore("thread", [{ ...taken, metadata: { changed: true } }], { replace: true });
    expect((await storage.threads.get(taken.thread_id)).metadata).toEqual({ changed: true });
  });

  it("refuses a truncated archive, a newer format and something that is not an archive", async () => {
    const source = (await open()).storage;
    await fillStorage(source);
    const text = await (async () => {
      const { gunzipSync } = await import("node:zlib");
      return gunzipSync(await archiveBytes(source)).toString();
    })();
    const lines = text.trimEnd().split("\n");
    const of = (t: string) => bytes(gzipSync(t));
    await expect(importArchive((await open()).storage, of(lines.slice(0, -1).join("\n") + "\n"))).rejects.toThrow(/truncated/);
    const newer = JSON.stringify({ ...JSON.parse(lines[0]), version: 99 });
    const target = (await open()).storage;
    await expect(importArchive(target, of([newer, ...lines.slice(1)].join("\n")))).rejects.toThrow(/version 99 is newer/);
    await expect(importArchive(target, of("hello\n"))).rejects.toThrow(/not an lgts archive/);
    expect(await target.threads.count()).toBe(0);
  });
});
