/** Shared fixtures for the storage unit tests. */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach } from "vitest";
import { LowdbStorage, type LowdbStorageOptions } from "../../src/storage/lowdb/storage.js";

/**
 * Shard counts for test storages: every collection's shard files are created on open, and the
 * production counts (up to 1024 per collection) make each open cost thousands of files.
 */
export const TEST_SHARDS = { assistants: 2, threads: 4, checkpoints: 4, runs: 4, crons: 2, storeItems: 4 } as const;

/** A fresh temp directory, removed by the returned cleanup. */
export async function tempDir(prefix = "lgts-storage-"): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Opens a LowdbStorage in a fresh temp dir; `done()` closes it and removes the dir. */
export async function openTempStorage(
  options: Partial<LowdbStorageOptions> = {},
): Promise<{ storage: LowdbStorage; dir: string; done: () => Promise<void> }> {
  const { dir, cleanup } = await tempDir();
  const storage = await LowdbStorage.open({ dataDir: dir, ...options, shards: { ...TEST_SHARDS, ...options.shards } });
  return {
    storage,
    dir,
    done: async () => {
      await storage.close();
      await cleanup();
    },
  };
}

/**
 * `open()` gives a fresh temp storage per test; each is closed and removed after its test.
 * Call at the top level of a test file.
 */
export function tempStoragePerTest(options: Partial<LowdbStorageOptions> = {}) {
  const opened: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const done of opened.splice(0)) await done();
  });
  return async () => {
    const temp = await openTempStorage(options);
    opened.push(temp.done);
    return temp;
  };
}
