/**
 * `lgts backup` of a running embedded server under write load: writers keep creating threads and
 * bumping a counter while the backup is taken through the server's socket; the backup restores
 * (`lgts import` into an empty directory) with every write acknowledged before it started, and
 * nothing that was never written. Writes go on while it is taken (its cost: bench/archive.ts).
 */
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runDataCommand } from "../../src/data-commands.js";
import { eventually } from "../support/runs.js";
import { startTestServer, type TestServer } from "../support/server.js";

const servers: TestServer[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.dispose();
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function lgts(command: string, ...args: string[]): Promise<void> {
  const lines: string[] = [];
  const code = await runDataCommand(command, args, {}, (line) => lines.push(line));
  expect(code, lines.join("\n")).toBe(0);
}

describe("lgts backup", () => {
  it("backs up a running embedded server under write load without losing an acknowledged write", { timeout: 120_000 }, async () => {
    const t = await startTestServer();
    servers.push(t);
    const counter = await t.client.threads.create({ metadata: { count: 0 } });
    for (let i = 0; i < 20; i++) await Promise.all(Array.from({ length: 50 }, (_, j) => t.client.threads.create({ metadata: { seed: i * 50 + j } })));

    const acked: Array<{ id: string; at: number }> = [];
    let counted = 0;
    const countedAt: Array<{ value: number; at: number }> = [];

    let writing = true;
    const writer = async (n: number) => {
      for (let i = 0; writing; i++) {
        if (n === 0) {
          const value = ++counted;
          await t.client.threads.update(counter.thread_id, { metadata: { count: value } });
          countedAt.push({ value, at: performance.now() });
        } else {
          const thread = await t.client.threads.create({ metadata: { writer: n, i } });
          acked.push({ id: thread.thread_id, at: performance.now() });
        }
      }
    };
    const writers = Array.from({ length: 4 }, (_, n) => writer(n));
    await eventually(async () => (acked.length >= 20 && countedAt.length >= 5 ? true : undefined), 30_000, "writers under way");
    const backupDir = await mkdtemp(path.join(tmpdir(), "lgts-backups-"));
    dirs.push(backupDir);
    const startedAt = performance.now();
    await lgts("backup", backupDir, "--data-dir", t.dataDir);
    const ackedByThen = acked.length;
    await eventually(async () => (acked.length >= ackedByThen + 20 ? true : undefined), 30_000, "writes after the backup");
    writing = false;
    await Promise.all(writers);

    const [file] = await readdir(backupDir);
    expect(file).toMatch(/^lgts-backup-.*\.jsonl\.gz$/);
    await t.stop();
    const restoredDir = await mkdtemp(path.join(tmpdir(), "lgts-restored-"));
    dirs.push(restoredDir);
    await lgts("import", path.join(backupDir, file), "--data-dir", restoredDir);
    const restored = await startTestServer({ dataDir: restoredDir });
    servers.push(restored);

    const ids = new Set<string>();
    for (let offset = 0; ; offset += 1000) {
      const page = await restored.client.threads.search({ limit: 1000, offset });
      page.forEach((th) => ids.add(th.thread_id));
      if (page.length < 1000) break;
    }
    const ackedBefore = acked.filter((a) => a.at < startedAt);
    expect(ackedBefore.length).toBeGreaterThan(0);
    expect(ackedBefore.filter((a) => !ids.has(a.id))).toEqual([]);
    // nothing that was never acknowledged by the end of the writes
    const everAcked = new Set(acked.map((a) => a.id));
    const unknown = [...ids].filter((id) => !everAcked.has(id) && id !== counter.thread_id);
    expect(unknown).toHaveLength(1000); // the seeded threads only
    const countBefore = Math.max(0, ...countedAt.filter((c) => c.at < startedAt).map((c) => c.value));
    const restoredCount = (await restored.client.threads.get(counter.thread_id)).metadata!.count as number;
    expect(restoredCount).toBeGreaterThanOrEqual(countBefore);
    expect(restoredCount).toBeLessThanOrEqual(counted);
  });
});
