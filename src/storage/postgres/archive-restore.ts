/**
 * Restoring archived records as they are: each kind becomes rows of its tables, sent as one JSON
 * parameter per table and expanded by `json_populate_recordset` (one statement per table and
 * batch, rows inserted in the order given: `checkpoint_writes.seq` keeps the recorded order).
 * With `replace`, the rows of the same records are deleted first (an assistant's versions and an
 * item's vectors go with it); without, a taken id fails the batch with a ConflictError.
 */
import { ConflictError } from "../errors.js";
import { storeItemId } from "../store-query.js";
import type { ArchiveKind, ArchiveRecords } from "../types.js";
import type { Queryable } from "./database.js";
import { isUniqueViolation } from "./sql.js";
import { nsPath } from "./store-items.js";
import { cosineOverArrays } from "./vector-ranking.js";

type Row = Record<string, unknown>;

interface TableRows {
  table: string;
  /** The columns identifying a record (deleted by them on replace; none: deleted with its owner). */
  key: readonly string[];
  columns: readonly string[];
  rows: Row[];
}

const VERSION_COLUMNS = ["assistant_id", "version", "graph_id", "config", "context", "metadata", "name", "description", "created_at"];

/**
 * Every column of every table an archive fills, its identifying columns first. A column added to
 * one of these tables must be added here (test/unit/postgres-archive-columns.test.ts compares
 * this with the schema), or be listed in NOT_RESTORED.
 */
export const RESTORED_COLUMNS = {
  assistants: [...VERSION_COLUMNS, "updated_at"],
  assistant_versions: VERSION_COLUMNS,
  threads: ["thread_id", "created_at", "updated_at", "state_updated_at", "metadata", "status", "values", "interrupts", "error", "config", "ttl"],
  checkpoints: [
    "thread_id",
    "checkpoint_ns",
    "checkpoint_id",
    "parent_checkpoint_id",
    "checkpoint_type",
    "checkpoint_data",
    "metadata",
    "created_at",
  ],
  checkpoint_writes: ["thread_id", "checkpoint_ns", "checkpoint_id", "task_id", "idx", "channel", "value_type", "value_data", "task_path", "run_id"],
  runs: [
    "run_id",
    "thread_id",
    "assistant_id",
    "created_at",
    "updated_at",
    "status",
    "metadata",
    "kwargs",
    "multitask_strategy",
    "cancel_reason",
    "attempt",
    "not_before",
    "error",
    "handoffs",
  ],
  crons: [
    "cron_id",
    "assistant_id",
    "thread_id",
    "on_run_completed",
    "end_time",
    "schedule",
    "timezone",
    "created_at",
    "updated_at",
    "payload",
    "user_id",
    "next_run_date",
    "metadata",
    "enabled",
    "auth_user",
  ],
  store_items: ["item_id", "namespace", "ns_path", "key", "value", "created_at", "updated_at", "ttl_minutes", "expires_at"],
  store_vectors: ["item_id", "position", "field", "dims", "vector", "norm"],
  webhook_deliveries: ["delivery_id", "run_id", "thread_id", "url", "payload", "attempts", "due_at", "claimed_by", "claimed_until", "created_at"],
} as const;

/** Columns left to their defaults, and why. */
export const NOT_RESTORED: Record<string, Record<string, string>> = {
  runs: { lease_owner: "a lease belongs to a process of the source", lease_expires_at: "a lease belongs to a process of the source" },
  checkpoint_writes: { seq: "renumbered, in the recorded order" },
};

/** Tables an archive leaves out: what they hold is the server's own bookkeeping. */
export const NOT_ARCHIVED_TABLES = ["lgts_migrations", "run_events", "workers"];

type Table = keyof typeof RESTORED_COLUMNS;

const rowsOf = (name: Table, key: readonly string[], rows: Row[]): TableRows => ({ table: name, key, columns: RESTORED_COLUMNS[name], rows });

/** The rows of each table that records of `kind` become, owners first. */
function tableRows<K extends ArchiveKind>(kind: K, records: readonly ArchiveRecords[K][]): TableRows[] {
  const all = records as readonly ArchiveRecords[ArchiveKind][];
  switch (kind) {
    case "assistant": {
      const entities = all as ArchiveRecords["assistant"][];
      return [
        rowsOf(
          "assistants",
          ["assistant_id"],
          entities.map((e) => e.assistant),
        ),
        rowsOf(
          "assistant_versions",
          [],
          entities.flatMap((e) => e.versions),
        ),
      ];
    }
    case "thread":
      return [rowsOf("threads", ["thread_id"], all as unknown as Row[])];
    case "checkpoint":
      return [
        rowsOf(
          "checkpoints",
          ["thread_id", "checkpoint_ns", "checkpoint_id"],
          (all as ArchiveRecords["checkpoint"][]).map(({ checkpoint, ...rest }) => ({
            ...rest,
            checkpoint_type: checkpoint.type,
            checkpoint_data: checkpoint.data,
          })),
        ),
      ];
    case "checkpoint_writes":
      return [
        rowsOf(
          "checkpoint_writes",
          ["thread_id", "checkpoint_ns", "checkpoint_id"],
          (all as ArchiveRecords["checkpoint_writes"][]).flatMap(({ writes, ...key }) =>
            writes.map(({ value, ...w }) => ({ ...key, ...w, value_type: value.type, value_data: value.data })),
          ),
        ),
      ];
    case "run":
      // archives of releases before `handoffs` have none
      return [
        rowsOf(
          "runs",
          ["run_id"],
          (all as ArchiveRecords["run"][]).map((run) => ({ ...run, handoffs: run.handoffs ?? 0 })),
        ),
      ];
    case "cron":
      return [rowsOf("crons", ["cron_id"], all as unknown as Row[])];
    case "store_item": {
      const items = all as ArchiveRecords["store_item"][];
      return [
        rowsOf(
          "store_items",
          ["item_id"],
          items.map(({ vectors: _vectors, ...item }) => ({
            ...item,
            item_id: storeItemId(item.namespace, item.key),
            ns_path: nsPath(item.namespace),
          })),
        ),
        rowsOf(
          "store_vectors",
          [],
          items.flatMap((item) =>
            item.vectors.map((v, position) => ({
              item_id: storeItemId(item.namespace, item.key),
              position,
              field: v.field,
              ...cosineOverArrays.encode(v),
            })),
          ),
        ),
      ];
    }
    case "webhook":
      return [rowsOf("webhook_deliveries", ["delivery_id"], all as unknown as Row[])];
  }
}

const quoted = (column: string) => `"${column}"`;

/** Writes the records' rows in the transaction `tx`. */
export async function restoreRecords<K extends ArchiveKind>(
  tx: Queryable,
  kind: K,
  records: readonly ArchiveRecords[K][],
  replace: boolean,
): Promise<void> {
  if (records.length === 0) return;
  for (const { table: name, key, columns, rows } of tableRows(kind, records)) {
    if (rows.length === 0) continue;
    const json = JSON.stringify(rows);
    if (replace && key.length) {
      const keys = key.map(quoted).join(", ");
      await tx.query(`DELETE FROM ${name} WHERE (${keys}) IN (SELECT ${keys} FROM json_populate_recordset(NULL::${name}, $1::json))`, [json]);
    }
    const list = columns.map(quoted).join(", ");
    try {
      await tx.query(
        `INSERT INTO ${name} (${list}) SELECT ${columns.map((c) => `r.${quoted(c)}`).join(", ")}
         FROM json_populate_recordset(NULL::${name}, $1::json) WITH ORDINALITY AS r ORDER BY r.ordinality`,
        [json],
      );
    } catch (error) {
      if (isUniqueViolation(error)) throw new ConflictError(kind, (error as { detail?: string }).detail ?? "?");
      throw error;
    }
  }
}
