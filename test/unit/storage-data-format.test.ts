/**
 * Data directories of other releases: the fixture, written by a release of format 1, opens with
 * everything in it, migrated to this release's format; a directory from before the stamp is
 * format 1; a newer one is refused, untouched; an older one is backed up and then migrated in
 * place, and a crash mid-migration is resumed at the next open. When the format changes,
 * FORMAT_STEPS must carry the fixture over.
 */
import { cp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { backupDirOf, CURRENT_DATA_FORMAT, FORMAT_FILE, type FormatStep } from "../../src/storage/lowdb/data-format.js";
import { LowdbStorage } from "../../src/storage/lowdb/storage.js";
import { REPO_ROOT } from "../support/server.js";
import { contents, differingKinds, type Contents } from "./archive-fill.js";
import { tempDirPerTest } from "./storage-helpers.js";

const FIXTURE = path.join(REPO_ROOT, "test/fixtures/data-dir/format-1");
const tmp = tempDirPerTest("lgts-format-");

async function fixtureCopy(): Promise<string> {
  const dir = path.join(tmp.path, "data");
  await cp(FIXTURE, dir, { recursive: true });
  return dir;
}

/** The fixture's release: it reads format 1 and knows no step. */
const FORMAT_1 = { current: 1, steps: [] };

const formatOf = async (dir: string) => (JSON.parse(await readFile(path.join(dir, FORMAT_FILE), "utf8")) as { format: number }).format;
const expected = async () => JSON.parse(await readFile(`${FIXTURE}.contents.json`, "utf8")) as Contents;

async function contentsOf(dir: string, format?: Parameters<typeof LowdbStorage.open>[0]["format"]): Promise<Contents> {
  const storage = await LowdbStorage.open({ dataDir: dir, ...(format ? { format } : {}) });
  try {
    return await contents(storage);
  } finally {
    await storage.close();
  }
}

describe("embedded data format", () => {
  it("opens a format 1 directory with everything in it, migrated to this release's format and backed up", async () => {
    const dir = await fixtureCopy();
    expect(await formatOf(dir)).toBe(1);
    expect(differingKinds(await contentsOf(dir), await expected())).toEqual([]);
    expect(await formatOf(dir)).toBe(CURRENT_DATA_FORMAT);
    expect(await formatOf(backupDirOf(dir, 1))).toBe(1);
    // and again, now in this release's format
    expect(differingKinds(await contentsOf(dir), await expected())).toEqual([]);
  });

  it("takes a directory written before the stamp for format 1 and stamps it", async () => {
    const dir = await fixtureCopy();
    await rm(path.join(dir, FORMAT_FILE));
    expect(differingKinds(await contentsOf(dir, FORMAT_1), await expected())).toEqual([]);
    expect(await formatOf(dir)).toBe(1);
  });

  it("refuses a directory written by a newer release and leaves it untouched", async () => {
    const dir = await fixtureCopy();
    await writeFile(path.join(dir, FORMAT_FILE), JSON.stringify({ format: 99 }));
    const before = await readdir(dir, { recursive: true });
    await expect(LowdbStorage.open({ dataDir: dir })).rejects.toThrow(
      new RegExp(`written by a newer release of lgts \\(data format 99; this release reads up to ${CURRENT_DATA_FORMAT}\\): upgrade lgts`),
    );
    expect(await readdir(dir, { recursive: true })).toEqual(before);
    expect(await formatOf(dir)).toBe(99);
    expect(await readdir(tmp.path)).toEqual(["data"]);
  });

  it("refuses an older directory no migration step leads from, before touching it", async () => {
    const dir = await fixtureCopy();
    await expect(LowdbStorage.open({ dataDir: dir, format: { current: 3, steps: [{ to: 3, migrate: async () => undefined }] } })).rejects.toThrow(
      /no migration of data directories from format 1 to 2/,
    );
    expect(await formatOf(dir)).toBe(1);
    expect(await readdir(tmp.path)).toEqual(["data"]);
  });

  it("backs an older directory up, then migrates it in place; a crash mid-step is resumed", async () => {
    const dir = await fixtureCopy();
    let crash = true;
    // a format 2 that marks every thread: rewrites the thread shards one by one
    const markThreads: FormatStep = {
      to: 2,
      async migrate(dataDir) {
        const shards = (await readdir(path.join(dataDir, "threads"))).filter((n) => /^\d+\.json$/.test(n));
        for (const name of shards) {
          const file = path.join(dataDir, "threads", name);
          const shard = JSON.parse(await readFile(file, "utf8")) as { records: Record<string, { metadata: Record<string, unknown> }> };
          for (const thread of Object.values(shard.records)) thread.metadata = { ...thread.metadata, migrated: true };
          await writeFile(file, JSON.stringify(shard));
          if (crash) throw new Error("killed mid-migration");
        }
      },
    };
    const format = { current: 2, steps: [markThreads] };
    await expect(LowdbStorage.open({ dataDir: dir, format })).rejects.toThrow(/killed mid-migration/);
    expect(await formatOf(dir)).toBe(1);
    const backup = backupDirOf(dir, 1);
    expect(differingKinds(await contentsOf(backup, FORMAT_1), await expected())).toEqual([]);
    crash = false;
    const migrated = await contentsOf(dir, format);
    expect(await formatOf(dir)).toBe(2);
    expect(migrated.thread.map((t) => t.metadata?.migrated)).toEqual(migrated.thread.map(() => true));
    expect(differingKinds(migrated, await expected())).toEqual(["thread"]);
    // the backup still holds format 1, as the directory was before the first attempt
    expect(await formatOf(backup)).toBe(1);
  });
});
