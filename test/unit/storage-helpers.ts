/**
 * Shared fixtures for the storage contract suites. The suites are written against the `Storage`
 * interface; `openTempStorage` opens the backend of this vitest project (LGTS_TEST_STORAGE):
 * lowdb in a temp directory, or PostgreSQL in a fresh database of the test server.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach } from "vitest";
import { LowdbStorage, type LowdbStorageOptions } from "../../src/storage/lowdb/storage.js";
import { PostgresStorage } from "../../src/storage/postgres/storage.js";
import type { CheckpointWrite, Storage } from "../../src/storage/types.js";
import { createTestDatabase, TEST_STORAGE } from "../support/postgres.js";

export { TEST_STORAGE };

/**
 * Shard counts for test storages: every collection's shard files are created on open, and the
 * production counts (up to 1024 per collection) make each open cost thousands of files.
 */
export const TEST_SHARDS = { assistants: 2, threads: 4, checkpoints: 4, runs: 4, crons: 2, storeItems: 4, webhooks: 2 } as const;

/**
 * The lines of the commit logs in a lowdb data directory as replay reads them: every generation's
 * file in order, each up to its first NUL (files prepared ahead end in zeros). `name`: one file's.
 */
export async function logText(dataDir: string, name?: string): Promise<string> {
  const { logGenerations } = await import("../../src/storage/lowdb/commit-log.js");
  const names = name ? [name] : (await logGenerations(dataDir)).map((g) => `log-${String(g).padStart(8, "0")}.ndjson`);
  const texts: string[] = [];
  for (const file of names) {
    const bytes = await readFile(path.join(dataDir, file));
    const end = bytes.indexOf(0);
    texts.push(bytes.toString("utf8", 0, end === -1 ? bytes.length : end));
  }
  return texts.join("");
}

/** A fresh temp directory, removed by the returned cleanup. */
export async function tempDir(prefix = "lgts-storage-"): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** A fresh temp directory for each test of the calling file; `.path` is the current test's. */
export function tempDirPerTest(prefix?: string): { readonly path: string } {
  let current: Awaited<ReturnType<typeof tempDir>> | undefined;
  beforeEach(async () => {
    current = await tempDir(prefix);
  });
  afterEach(async () => {
    await current?.cleanup();
  });
  return {
    get path() {
      if (!current) throw new Error("tempDirPerTest: used outside a test");
      return current.dir;
    },
  };
}

export interface TempStorageOptions {
  /** lowdb shard counts (PostgreSQL has none). */
  shards?: LowdbStorageOptions["shards"];
  /** Clock of store-item expiry. */
  clock?: () => number;
}

export interface TempStorage {
  storage: Storage;
  /** The lowdb data directory (lowdb only). */
  dir?: string;
  /** The database's URI (PostgreSQL only). */
  uri?: string;
  /** Opens the same data again (after `storage.close()`): what a restarted server sees. */
  reopen(): Promise<Storage>;
  done(): Promise<void>;
}

/** Opens an empty storage of this project's backend; `done()` closes it and removes its data. */
export async function openTempStorage(options: TempStorageOptions = {}): Promise<TempStorage> {
  const opened: Storage[] = [];
  const track = (s: Storage) => (opened.push(s), s);
  const closeAll = () => Promise.all(opened.map((s) => s.close()));
  if (TEST_STORAGE === "postgres") {
    const database = await createTestDatabase();
    const open = () => PostgresStorage.open({ uri: database.uri, poolMax: 4, ...(options.clock ? { clock: options.clock } : {}) });
    return {
      storage: track(await open()),
      uri: database.uri,
      reopen: async () => track(await open()),
      done: async () => {
        await closeAll();
        await database.drop();
      },
    };
  }
  const { dir, cleanup } = await tempDir();
  const open = () => LowdbStorage.open({ dataDir: dir, ...options, shards: { ...TEST_SHARDS, ...options.shards } });
  return {
    storage: track(await open()),
    dir,
    reopen: async () => track(await open()),
    done: async () => {
      await closeAll();
      await cleanup();
    },
  };
}

/**
 * `open()` gives a fresh temp storage per test; each is closed and removed after its test.
 * Call at the top level of a test file.
 */
export function tempStoragePerTest(options: TempStorageOptions = {}) {
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

/** A pending write of checkpoint tests: task `task`'s `idx`th, value `data` (JSON), from run "r". */
export const pendingWrite = (task: string, idx: number, data: string): CheckpointWrite => ({
  task_id: task,
  idx,
  channel: "value",
  value: { type: "json", data },
  task_path: "",
  run_id: "r",
});
