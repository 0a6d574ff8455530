/**
 * Child process of storage-crash.test.ts: writes to a store as fast as it can
 * and prints one line per acknowledged (resolved) mutation:
 *   create <thread_id> | patch <thread_id> <n> | delete <thread_id>
 * and, before each delete, `deleting <thread_id>`: a delete in flight when the
 * kill lands may or may not have reached the disk, and either outcome is fine.
 * Its parent SIGKILLs it at an arbitrary moment. stdout is a pipe, which Node
 * writes synchronously on Linux, so a printed line is never lost by the kill.
 */
import { LowdbStorage } from "../../src/storage/lowdb/storage.js";

const [dataDir, tag] = process.argv.slice(2);
if (!dataDir || !tag) throw new Error("usage: storage-crash-child <dataDir> <tag>");

// a small log limit: kills also land during checkpoints (log rotation, shard rewrites, log removal)
const storage = await LowdbStorage.open({ dataDir, shards: { threads: 16, assistants: 4 }, checkpointLogBytes: 32 * 1024 });
const say = (line: string) => process.stdout.write(line + "\n");
say("ready");

/** One writer: create a thread, patch it a few times, sometimes delete it. */
async function writer(w: number): Promise<never> {
  for (let i = 0; ; i++) {
    const t = await storage.threads.create({ metadata: { tag, w, i, pad: "x".repeat(200) } });
    say(`create ${t.thread_id}`);
    for (let n = 1; n <= 3; n++) {
      await storage.threads.patch(t.thread_id, { metadata: { n } });
      say(`patch ${t.thread_id} ${n}`);
    }
    if (i % 4 === 0) {
      say(`deleting ${t.thread_id}`);
      await storage.threads.delete(t.thread_id);
      say(`delete ${t.thread_id}`);
    }
  }
}

// 32 concurrent writers: plenty of group commits, chained writes and in-flight renames to interrupt.
await Promise.all(Array.from({ length: 32 }, (_, w) => writer(w)));
