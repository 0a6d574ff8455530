/** Shared fixtures for the storage unit tests. */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { LowdbStorage, type LowdbStorageOptions } from "../../src/storage/lowdb/storage.js";

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
  const storage = await LowdbStorage.open({ dataDir: dir, ...options });
  return {
    storage,
    dir,
    done: async () => {
      await storage.close();
      await cleanup();
    },
  };
}
