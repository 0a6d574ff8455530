/**
 * StorageArchive on PostgreSQL. A snapshot is one REPEATABLE READ, READ ONLY transaction: every
 * table read at the same moment while other processes go on writing. Records are read in primary
 * key order, a batch per statement resuming after the last key read (keyset pagination: each
 * statement is one index range, whatever the table's size). Restores: archive-restore.ts.
 */
import type { ArchiveKind, ArchiveRecords, ArchiveView, StorageArchive } from "../types.js";
import { toAssistant, toVersion, type AssistantRow } from "./assistants.js";
import { CRON_COLUMNS, toCron, type CronRow } from "./crons.js";
import type { Database, Queryable } from "./database.js";
import { restoreRecords } from "./archive-restore.js";
import { RUN_COLUMNS, toRun, type RunRow } from "./runs.js";
import { toItem, type ItemRow } from "./store-items.js";
import { THREAD_COLUMNS, toThread, type ThreadRow } from "./threads.js";
import { DELIVERY_COLUMNS, toDelivery, type DeliveryRow } from "./webhooks.js";

type Row = Record<string, unknown>;

/** How one kind is read: its table and key, the columns, and rows -> records (with related rows). */
interface KindReader<K extends ArchiveKind> {
  /** FROM clause, aliased or not; GROUP BY for the aggregated kinds. */
  from: string;
  key: readonly string[];
  select: string;
  groupBy?: boolean;
  records(tx: Queryable, rows: Row[]): Promise<ArchiveRecords[K][]>;
}

const ASSISTANT_FIELDS = "assistant_id, graph_id, config, context, metadata, name, description, version, created_at";

const READERS: { [K in ArchiveKind]: KindReader<K> } = {
  assistant: {
    from: "assistants",
    key: ["assistant_id"],
    select: `${ASSISTANT_FIELDS}, updated_at`,
    async records(tx, rows) {
      const ids = rows.map((r) => r.assistant_id);
      const { rows: versions } = await tx.query<AssistantRow>(
        `SELECT ${ASSISTANT_FIELDS} FROM assistant_versions WHERE assistant_id = ANY($1::text[]) ORDER BY assistant_id, version`,
        [ids],
      );
      const byAssistant = groupBy(versions, (v) => v.assistant_id);
      return (rows as unknown as AssistantRow[]).map((row) => ({
        assistant: toAssistant(row),
        versions: (byAssistant.get(row.assistant_id) ?? []).map(toVersion),
      }));
    },
  },
  thread: {
    from: "threads",
    key: ["thread_id"],
    select: THREAD_COLUMNS,
    records: async (_tx, rows) => (rows as unknown as ThreadRow[]).map(toThread),
  },
  checkpoint: {
    from: "checkpoints",
    key: ["thread_id", "checkpoint_ns", "checkpoint_id"],
    select: "thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, checkpoint_type, checkpoint_data, metadata, created_at",
    records: async (_tx, rows) =>
      rows.map((r) => ({
        thread_id: r.thread_id as string,
        checkpoint_ns: r.checkpoint_ns as string,
        checkpoint_id: r.checkpoint_id as string,
        parent_checkpoint_id: r.parent_checkpoint_id as string | null,
        checkpoint: { type: r.checkpoint_type as string, data: r.checkpoint_data as string },
        metadata: r.metadata as Record<string, unknown>,
        created_at: r.created_at as string,
      })),
  },
  checkpoint_writes: {
    from: "checkpoint_writes",
    key: ["thread_id", "checkpoint_ns", "checkpoint_id"],
    groupBy: true,
    select: `thread_id, checkpoint_ns, checkpoint_id, json_agg(json_build_object('task_id', task_id, 'idx', idx,
      'channel', channel, 'value', json_build_object('type', value_type, 'data', value_data), 'task_path', task_path,
      'run_id', run_id) ORDER BY seq) AS writes`,
    records: async (_tx, rows) => rows as unknown as ArchiveRecords["checkpoint_writes"][],
  },
  run: { from: "runs", key: ["run_id"], select: RUN_COLUMNS, records: async (_tx, rows) => (rows as unknown as RunRow[]).map(toRun) },
  cron: { from: "crons", key: ["cron_id"], select: CRON_COLUMNS, records: async (_tx, rows) => (rows as unknown as CronRow[]).map(toCron) },
  store_item: {
    from: "store_items",
    key: ["item_id"],
    select: "item_id, namespace, key, value, created_at, updated_at, ttl_minutes, expires_at",
    async records(tx, rows) {
      const { rows: vectors } = await tx.query<{ item_id: string; field: string; vector: number[] }>(
        "SELECT item_id, field, vector FROM store_vectors WHERE item_id = ANY($1::text[]) ORDER BY item_id, position",
        [rows.map((r) => r.item_id)],
      );
      const byItem = groupBy(vectors, (v) => v.item_id);
      return rows.map((row) => ({
        ...toItem(row as unknown as ItemRow),
        vectors: (byItem.get(row.item_id as string) ?? []).map(({ field, vector }) => ({ field, vector })),
      }));
    },
  },
  webhook: {
    from: "webhook_deliveries",
    key: ["delivery_id"],
    select: DELIVERY_COLUMNS,
    records: async (_tx, rows) => (rows as unknown as DeliveryRow[]).map(toDelivery),
  },
};

const COUNTS_SQL = `SELECT
  (SELECT count(*) FROM assistants)::int AS assistant,
  (SELECT count(*) FROM threads)::int AS thread,
  (SELECT count(*) FROM checkpoints)::int AS checkpoint,
  (SELECT count(*) FROM (SELECT DISTINCT thread_id, checkpoint_ns, checkpoint_id FROM checkpoint_writes) w)::int AS checkpoint_writes,
  (SELECT count(*) FROM runs)::int AS run,
  (SELECT count(*) FROM crons)::int AS cron,
  (SELECT count(*) FROM store_items)::int AS store_item,
  (SELECT count(*) FROM webhook_deliveries)::int AS webhook`;

export class PostgresArchive implements StorageArchive {
  constructor(private readonly db: Database) {}

  snapshot<T>(work: (view: ArchiveView) => Promise<T>): Promise<T> {
    return this.db.transaction(async (tx) => {
      await tx.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
      return work({
        counts: async () => (await tx.query<Record<ArchiveKind, number>>(COUNTS_SQL)).rows[0],
        records: <K extends ArchiveKind>(kind: K, batchSize: number) => readKind(tx, READERS[kind] as KindReader<K>, batchSize),
      });
    });
  }

  restore<K extends ArchiveKind>(kind: K, records: readonly ArchiveRecords[K][], options: { replace?: boolean } = {}): Promise<void> {
    return this.db.transaction((tx) => restoreRecords(tx, kind, records, options.replace ?? false));
  }
}

async function* readKind<K extends ArchiveKind>(tx: Queryable, reader: KindReader<K>, batchSize: number): AsyncIterable<ArchiveRecords[K][]> {
  const keys = reader.key.join(", ");
  const placeholders = reader.key.map((_, i) => `$${i + 2}`).join(", ");
  const group = reader.groupBy ? `GROUP BY ${keys}` : "";
  const first = `SELECT ${reader.select} FROM ${reader.from} ${group} ORDER BY ${keys} LIMIT $1`;
  const next = `SELECT ${reader.select} FROM ${reader.from} WHERE (${keys}) > (${placeholders}) ${group} ORDER BY ${keys} LIMIT $1`;
  let after: unknown[] | null = null;
  for (;;) {
    const params: unknown[] = after ? [batchSize, ...after] : [batchSize];
    const { rows }: { rows: Row[] } = await tx.query<Row>(after ? next : first, params);
    if (rows.length === 0) return;
    const last: Row = rows.at(-1)!;
    after = reader.key.map((k) => last[k]);
    yield await reader.records(tx, rows);
    if (rows.length < batchSize) return;
  }
}

function groupBy<T>(rows: T[], keyOf: (row: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const row of rows) {
    const key = keyOf(row);
    let group = groups.get(key);
    if (!group) groups.set(key, (group = []));
    group.push(row);
  }
  return groups;
}
