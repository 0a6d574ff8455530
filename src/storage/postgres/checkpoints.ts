/**
 * CheckpointsRepository on `checkpoints` + `checkpoint_writes`, keyed by
 * (thread_id, checkpoint_ns, checkpoint_id). Writes keep the order they were first recorded in
 * (`seq`) and may arrive before their checkpoint. A checkpoint's writes come back with it in the
 * same statement (a correlated aggregate over the writes' primary key). A thread's operations run
 * in call order (`PerKeyOrder`): a run's unawaited saves are seen by the reads and the rollback
 * that follow them, as on the embedded backend, and the saves that queue up behind one on its
 * way are committed together (one WAL flush for several steps of a run).
 */
import { NotFoundError } from "../errors.js";
import type {
  CheckpointKey,
  CheckpointListQuery,
  CheckpointPut,
  CheckpointsRepository,
  CheckpointWrite,
  Metadata,
  SaveOptions,
  StoredCheckpoint,
} from "../types.js";
import type { Database, Queryable } from "./database.js";
import { PerKeyOrder } from "./per-key-order.js";
import { Params, where } from "./sql.js";

interface CheckpointRow {
  thread_id: string;
  checkpoint_ns: string;
  checkpoint_id: string;
  parent_checkpoint_id: string | null;
  checkpoint_type: string;
  checkpoint_data: string;
  metadata: Metadata;
  created_at: string;
  writes: Array<{ task_id: string; idx: number; channel: string; type: string; data: string; task_path: string; run_id: string | null }>;
}

const SELECT = `SELECT c.thread_id, c.checkpoint_ns, c.checkpoint_id, c.parent_checkpoint_id, c.checkpoint_type,
  c.checkpoint_data, c.metadata, c.created_at,
  COALESCE((SELECT json_agg(json_build_object('task_id', w.task_id, 'idx', w.idx, 'channel', w.channel,
      'type', w.value_type, 'data', w.value_data, 'task_path', w.task_path, 'run_id', w.run_id) ORDER BY w.seq)
    FROM checkpoint_writes w
    WHERE w.thread_id = c.thread_id AND w.checkpoint_ns = c.checkpoint_ns AND w.checkpoint_id = c.checkpoint_id), '[]') AS writes
  FROM checkpoints c`;
const NEWEST_FIRST = "ORDER BY c.created_at DESC, c.checkpoint_id DESC";

/** A save of one thread's checkpoints: a checkpoint, or writes of one of its checkpoints. */
type Save = { checkpoint: CheckpointPut } | { key: CheckpointKey; writes: CheckpointWrite[] };

const PUT_CHECKPOINTS = /* sql */ `
INSERT INTO checkpoints (thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, checkpoint_type,
  checkpoint_data, metadata, created_at)
SELECT $1, t.ns, t.id, t.parent, t.type, t.data, t.metadata::jsonb, t.created_at
  FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])
    AS t(ns, id, parent, type, data, metadata, created_at)
ON CONFLICT (thread_id, checkpoint_ns, checkpoint_id) DO UPDATE SET
  parent_checkpoint_id = EXCLUDED.parent_checkpoint_id, checkpoint_type = EXCLUDED.checkpoint_type,
  checkpoint_data = EXCLUDED.checkpoint_data, metadata = EXCLUDED.metadata, created_at = EXCLUDED.created_at
RETURNING 1`;

/** Regular writes keep the first value of their slot, special (negative) slots the latest. */
const PUT_WRITES = /* sql */ `
INSERT INTO checkpoint_writes (thread_id, checkpoint_ns, checkpoint_id, task_id, idx, channel, value_type,
  value_data, task_path, run_id)
SELECT $1, * FROM unnest($9::text[], $10::text[], $11::text[], $12::int[], $13::text[], $14::text[], $15::text[], $16::text[], $17::text[])
ON CONFLICT (thread_id, checkpoint_ns, checkpoint_id, task_id, idx) DO UPDATE SET
  channel = EXCLUDED.channel, value_type = EXCLUDED.value_type, value_data = EXCLUDED.value_data,
  task_path = EXCLUDED.task_path, run_id = EXCLUDED.run_id
WHERE EXCLUDED.idx < 0
RETURNING 1`;

/**
 * One statement saving a thread's checkpoints and writes (each at most once per key, as
 * successive saves would leave them), its text one of two (every value a parameter): planned once
 * per connection. Deferred: its commit does not wait for the WAL flush.
 */
function saveStatement(deferred: boolean): string {
  return `WITH c AS (${PUT_CHECKPOINTS}), w AS (${PUT_WRITES})
SELECT (SELECT count(*) FROM c) AS checkpoints, (SELECT count(*) FROM w) AS writes${
    deferred ? ", set_config('synchronous_commit', 'off', true)" : ""
  }`;
}

const SAVE_SQL = saveStatement(false);
const SAVE_DEFERRED_SQL = saveStatement(true);

/** The values of SAVE_SQL for `saves` of thread `threadId`, in call order. */
function saveValues(threadId: string, saves: readonly Save[]): unknown[] {
  const checkpoints = new Map<string, CheckpointPut>();
  const writes = new Map<string, CheckpointKey & CheckpointWrite>();
  for (const save of saves) {
    if ("checkpoint" in save) {
      const c = save.checkpoint;
      checkpoints.set(`${c.checkpoint_ns}\u0000${c.checkpoint_id}`, c);
      continue;
    }
    for (const w of save.writes) {
      const slot = `${save.key.checkpoint_ns}\u0000${save.key.checkpoint_id}\u0000${w.task_id}\u0000${w.idx}`;
      // a slot keeps its first place (the order writes were first recorded in)
      if (w.idx < 0 || !writes.has(slot)) writes.set(slot, { ...save.key, ...w });
    }
  }
  const c = [...checkpoints.values()];
  const w = [...writes.values()];
  return [
    threadId,
    c.map((x) => x.checkpoint_ns),
    c.map((x) => x.checkpoint_id),
    c.map((x) => x.parent_checkpoint_id),
    c.map((x) => x.checkpoint.type),
    c.map((x) => x.checkpoint.data),
    c.map((x) => JSON.stringify(x.metadata)),
    c.map((x) => x.created_at),
    w.map((x) => x.checkpoint_ns),
    w.map((x) => x.checkpoint_id),
    w.map((x) => x.task_id),
    w.map((x) => x.idx),
    w.map((x) => x.channel),
    w.map((x) => x.value.type),
    w.map((x) => x.value.data),
    w.map((x) => x.task_path),
    w.map((x) => x.run_id),
  ];
}

function toStored(row: CheckpointRow): StoredCheckpoint {
  return {
    thread_id: row.thread_id,
    checkpoint_ns: row.checkpoint_ns,
    checkpoint_id: row.checkpoint_id,
    parent_checkpoint_id: row.parent_checkpoint_id,
    checkpoint: { type: row.checkpoint_type, data: row.checkpoint_data },
    metadata: row.metadata,
    created_at: row.created_at,
    writes: row.writes.map((w) => ({
      task_id: w.task_id,
      idx: w.idx,
      channel: w.channel,
      value: { type: w.type, data: w.data },
      task_path: w.task_path,
      run_id: w.run_id,
    })),
  };
}

export class PostgresCheckpoints implements CheckpointsRepository {
  readonly #order: PerKeyOrder<Save>;

  constructor(private readonly db: Database) {
    this.#order = new PerKeyOrder<Save>(async (saves, deferred) => {
      const threadId = "checkpoint" in saves[0] ? saves[0].checkpoint.thread_id : saves[0].key.thread_id;
      await db.query(deferred ? SAVE_DEFERRED_SQL : SAVE_SQL, saveValues(threadId, saves), { prepare: true });
    });
  }

  async put(c: CheckpointPut, options: SaveOptions = {}): Promise<void> {
    await this.#order.write(c.thread_id, { checkpoint: c }, options.deferred);
  }

  async putWrites(key: CheckpointKey, writes: CheckpointWrite[], options: SaveOptions = {}): Promise<void> {
    if (writes.length === 0) return;
    await this.#order.write(key.thread_id, { key, writes }, options.deferred);
  }

  get(key: Omit<CheckpointKey, "checkpoint_id"> & { checkpoint_id?: string }): Promise<StoredCheckpoint | undefined> {
    return this.#order.run(key.thread_id, () => this.#get(key));
  }

  list(query: CheckpointListQuery): Promise<StoredCheckpoint[]> {
    return this.#order.run(query.thread_id, () => this.#list(query));
  }

  patchMetadata(key: CheckpointKey, metadata: Metadata): Promise<void> {
    return this.#order.run(key.thread_id, () => this.#patchMetadata(key, metadata));
  }

  deleteThread(threadId: string): Promise<void> {
    return this.#order.run(threadId, () => this.db.transaction((tx) => deleteThreadCheckpoints(tx, threadId)));
  }

  copyThread(sourceThreadId: string, targetThreadId: string): Promise<void> {
    return this.#order.run(sourceThreadId, () => this.db.transaction((tx) => copyThreadCheckpoints(tx, sourceThreadId, targetThreadId)));
  }

  deleteRun(threadId: string, runId: string): Promise<number> {
    return this.#order.run(threadId, () => this.#deleteRun(threadId, runId));
  }

  pruneKeepLatest(threadId: string): Promise<void> {
    return this.#order.run(threadId, () => this.#pruneKeepLatest(threadId));
  }

  async #get(key: Omit<CheckpointKey, "checkpoint_id"> & { checkpoint_id?: string }): Promise<StoredCheckpoint | undefined> {
    const params = new Params();
    const conditions = [`c.thread_id = ${params.add(key.thread_id)}`, `c.checkpoint_ns = ${params.add(key.checkpoint_ns)}`];
    if (key.checkpoint_id !== undefined) conditions.push(`c.checkpoint_id = ${params.add(key.checkpoint_id)}`);
    const { rows } = await this.db.query<CheckpointRow>(`${SELECT} WHERE ${where(conditions)} ${NEWEST_FIRST} LIMIT 1`, params.values);
    return rows[0] && toStored(rows[0]);
  }

  async #list(query: CheckpointListQuery): Promise<StoredCheckpoint[]> {
    const params = new Params();
    const thread = params.add(query.thread_id);
    const conditions = [`c.thread_id = ${thread}`];
    const ns = query.checkpoint_ns === undefined ? undefined : params.add(query.checkpoint_ns);
    if (ns) conditions.push(`c.checkpoint_ns = ${ns}`);
    if (query.checkpoint_id !== undefined) conditions.push(`c.checkpoint_id = ${params.add(query.checkpoint_id)}`);
    if (query.before !== undefined) {
      // older than the anchor by (created_at, id) when it is stored, else by id alone (ids are time ordered)
      const before = params.add(query.before);
      const anchor = `(SELECT a.created_at FROM checkpoints a WHERE a.thread_id = ${thread} AND a.checkpoint_id = ${before}
        ${ns ? `AND a.checkpoint_ns = ${ns}` : ""} LIMIT 1)`;
      conditions.push(
        `CASE WHEN ${anchor} IS NULL THEN c.checkpoint_id < ${before} ELSE (c.created_at, c.checkpoint_id) < (${anchor}, ${before}) END`,
      );
    }
    if (query.metadata && Object.keys(query.metadata).length) conditions.push(`c.metadata @> ${params.json(query.metadata)}`);
    const limit = query.limit === undefined ? "" : `LIMIT ${params.add(Math.max(0, Math.floor(query.limit)))}`;
    const { rows } = await this.db.query<CheckpointRow>(`${SELECT} WHERE ${where(conditions)} ${NEWEST_FIRST} ${limit}`, params.values);
    return rows.map(toStored);
  }

  async #patchMetadata(key: CheckpointKey, metadata: Metadata): Promise<void> {
    const { rowCount } = await this.db.query(
      `UPDATE checkpoints SET metadata = metadata || $4::jsonb
       WHERE thread_id = $1 AND checkpoint_ns = $2 AND checkpoint_id = $3`,
      [key.thread_id, key.checkpoint_ns, key.checkpoint_id, JSON.stringify(metadata)],
    );
    if (rowCount === 0) throw new NotFoundError("Checkpoint", key.checkpoint_id);
  }

  #deleteRun(threadId: string, runId: string): Promise<number> {
    return this.db.transaction(async (tx) => {
      const { rows } = await tx.query<{ checkpoint_ns: string; checkpoint_id: string }>(
        `DELETE FROM checkpoints WHERE thread_id = $1 AND metadata->>'run_id' = $2 RETURNING checkpoint_ns, checkpoint_id`,
        [threadId, runId],
      );
      if (rows.length) {
        await tx.query(
          `DELETE FROM checkpoint_writes w USING unnest($2::text[], $3::text[]) AS d(ns, id)
           WHERE w.thread_id = $1 AND w.checkpoint_ns = d.ns AND w.checkpoint_id = d.id`,
          [threadId, rows.map((r) => r.checkpoint_ns), rows.map((r) => r.checkpoint_id)],
        );
      }
      await tx.query("DELETE FROM checkpoint_writes WHERE thread_id = $1 AND run_id = $2", [threadId, runId]);
      return rows.length;
    });
  }

  #pruneKeepLatest(threadId: string): Promise<void> {
    return this.db.transaction(async (tx) => {
      const { rows } = await tx.query<{ checkpoint_ns: string; checkpoint_id: string }>(
        `SELECT DISTINCT ON (checkpoint_ns) checkpoint_ns, checkpoint_id FROM checkpoints WHERE thread_id = $1
         ORDER BY checkpoint_ns, created_at DESC, checkpoint_id DESC`,
        [threadId],
      );
      const keep = [threadId, rows.map((r) => r.checkpoint_ns), rows.map((r) => r.checkpoint_id)];
      const kept = "(SELECT 1 FROM unnest($2::text[], $3::text[]) AS k(ns, id) WHERE k.ns = t.checkpoint_ns AND k.id = t.checkpoint_id)";
      await tx.query(`DELETE FROM checkpoints t WHERE thread_id = $1 AND NOT EXISTS ${kept}`, keep);
      await tx.query(`DELETE FROM checkpoint_writes t WHERE thread_id = $1 AND NOT EXISTS ${kept}`, keep);
    });
  }
}

/** Deletes a thread's checkpoints and writes within a caller's transaction. */
export async function deleteThreadCheckpoints(tx: Queryable, threadId: string): Promise<void> {
  await tx.query("DELETE FROM checkpoint_writes WHERE thread_id = $1", [threadId]);
  await tx.query("DELETE FROM checkpoints WHERE thread_id = $1", [threadId]);
}

/** Copies a thread's checkpoints and writes (same ids, same write order) within a caller's transaction. */
export async function copyThreadCheckpoints(tx: Queryable, sourceThreadId: string, targetThreadId: string): Promise<void> {
  await tx.query(
    `INSERT INTO checkpoints (thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, checkpoint_type,
       checkpoint_data, metadata, created_at)
     SELECT $2, checkpoint_ns, checkpoint_id, parent_checkpoint_id, checkpoint_type, checkpoint_data, metadata, created_at
     FROM checkpoints WHERE thread_id = $1`,
    [sourceThreadId, targetThreadId],
  );
  await tx.query(
    `INSERT INTO checkpoint_writes (thread_id, checkpoint_ns, checkpoint_id, task_id, idx, channel, value_type,
       value_data, task_path, run_id)
     SELECT $2, checkpoint_ns, checkpoint_id, task_id, idx, channel, value_type, value_data, task_path, run_id
     FROM checkpoint_writes WHERE thread_id = $1 ORDER BY seq`,
    [sourceThreadId, targetThreadId],
  );
}
