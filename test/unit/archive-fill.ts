/**
 * A storage holding every kind of record, for the archive tests: an assistant with two versions,
 * threads (one with a TTL, one with values), checkpoints with writes (and writes whose checkpoint
 * is not stored), runs in several statuses, a cron with its user, store items with embeddings and
 * a TTL, and a webhook delivery owed.
 */
import { isDeepStrictEqual } from "node:util";
import { parseRunRequest } from "../../src/runtime/runs/request.js";
import { ARCHIVE_KINDS, archiveRecordId } from "../../src/storage/archive/kinds.js";
import type { ArchiveKind, ArchiveRecords, Storage } from "../../src/storage/types.js";

/** Stores checkpoints `cp-0`…`cp-<count - 1>` of the thread's root namespace, each the parent of the next. */
export async function putCheckpointChain(storage: Storage, threadId: string, count: number, metadata: Record<string, unknown> = {}): Promise<void> {
  for (let n = 0; n < count; n++) {
    await storage.checkpoints.put({
      thread_id: threadId,
      checkpoint_ns: "",
      checkpoint_id: `cp-${n}`,
      parent_checkpoint_id: n ? `cp-${n - 1}` : null,
      checkpoint: { type: "json", data: JSON.stringify({ v: n }) },
      metadata: { step: n, ...metadata },
      created_at: new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString(),
    });
  }
}

export async function fillStorage(storage: Storage): Promise<void> {
  const assistant = await storage.assistants.create({ graph_id: "agent", name: "first", metadata: { owner: "u1" } });
  await storage.assistants.patch(assistant.assistant_id, { name: "second", config: { configurable: { k: 1 } } });
  const plain = await storage.threads.create({ metadata: { owner: "u1" } });
  await storage.threads.create({ metadata: { kind: "ttl" }, ttl: { strategy: "delete", ttl: 60 } });
  await storage.threads.update(plain.thread_id, {
    values: { messages: ["hi"] },
    status: "interrupted",
    interrupts: { task: [{ value: "ask", id: "i1" }] },
  });
  const t = plain.thread_id;
  await putCheckpointChain(storage, t, 3, { source: "loop" });
  const write = (task_id: string, idx: number) => ({
    task_id,
    idx,
    channel: "c",
    value: { type: "json", data: `"${task_id}${idx}"` },
    task_path: "",
    run_id: null,
  });
  await storage.checkpoints.putWrites({ thread_id: t, checkpoint_ns: "", checkpoint_id: "cp-2" }, [write("b", 0), write("a", 1), write("a", 0)]);
  await storage.checkpoints.putWrites({ thread_id: t, checkpoint_ns: "", checkpoint_id: "cp-not-yet" }, [write("z", 0)]);
  const kwargs = parseRunRequest(
    { assistant_id: assistant.assistant_id, input: { n: 1 }, webhook: "http://127.0.0.1:9/hook" },
    { stateless: false },
  ).kwargs;
  const created = [];
  for (let n = 0; n < 3; n++) {
    created.push(
      (await storage.runs.create({ thread_id: t, assistant_id: assistant.assistant_id, kwargs, multitask_strategy: "enqueue", metadata: { n } })).run,
    );
  }
  await storage.runs.update(created[0].run_id, { status: "running", attempt: 1 });
  await storage.runs.end(created[0].run_id, {
    update: { status: "error", error: { error: "ValueError", message: "boom" } },
    webhook: { url: "http://127.0.0.1:9/hook", payload: (r) => ({ run_id: r.run_id, status: r.status }) },
  });
  await storage.runs.update(created[1].run_id, { status: "running", attempt: 2 });
  await storage.crons.create({
    assistant_id: assistant.assistant_id,
    thread_id: null,
    schedule: "*/5 * * * *",
    timezone: "Europe/Paris",
    end_time: null,
    payload: { input: { n: 2 } },
    metadata: { owner: "u1" },
    next_run_date: "2030-01-01T00:05:00.000Z",
    auth_user: { identity: "u1", permissions: ["read"] },
  });
  await storage.storeItems.put({
    namespace: ["docs", "u1"],
    key: "a",
    value: { text: "alpha" },
    ttl_minutes: null,
    vectors: [{ field: "text", vector: [1, 0.5, -2] }],
  });
  await storage.storeItems.put({ namespace: ["docs"], key: "b", value: { text: "beta", n: 2 }, ttl_minutes: 90, vectors: [] });
}

export type Contents = { [K in ArchiveKind]: ArchiveRecords[K][] };

/** Everything a storage holds, each kind sorted by a canonical key (for comparisons). */
export async function contents(storage: Storage, batchSize = 2): Promise<Contents> {
  return storage.archive.snapshot(async (view) => {
    const all = {} as Contents;
    for (const kind of ARCHIVE_KINDS) {
      const records: unknown[] = [];
      for await (const batch of view.records(kind, batchSize)) records.push(...batch);
      records.sort((a, b) => (archiveRecordId(kind, a) < archiveRecordId(kind, b) ? -1 : 1));
      (all as Record<string, unknown[]>)[kind] = JSON.parse(JSON.stringify(records)) as unknown[];
    }
    return all;
  });
}

/** Kinds whose records differ (key order inside JSON values does not count). */
export function differingKinds(a: Contents, b: Contents): ArchiveKind[] {
  return ARCHIVE_KINDS.filter((k) => !isDeepStrictEqual(a[k], b[k]));
}
