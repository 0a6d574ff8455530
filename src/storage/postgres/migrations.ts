/**
 * Versioned migrations, applied at startup. One transaction holds a transaction-scoped advisory
 * lock while it reads the applied versions and applies the missing ones, so several processes
 * starting at once apply each migration exactly once: the others wait for the lock, then find
 * nothing left to do. A migration is never edited once released; changes are new versions.
 */
import type { Database } from "./database.js";
import * as schema from "./migrations/001-schema.js";
import * as runCoordination from "./migrations/002-run-coordination.js";
import * as webhookOutbox from "./migrations/003-webhook-outbox.js";
import * as storeIndexes from "./migrations/004-store-indexes.js";
import * as runHandoffs from "./migrations/005-run-handoffs.js";
import * as workers from "./migrations/006-workers.js";

interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  { version: 1, ...schema },
  { version: 2, ...runCoordination },
  { version: 3, ...webhookOutbox },
  { version: 4, ...storeIndexes },
  { version: 5, ...runHandoffs },
  { version: 6, ...workers },
];

/** Arbitrary constant naming this server's migration lock (pg_advisory_xact_lock takes a bigint). */
const MIGRATION_LOCK = 7_406_231_911;

/** Applies the missing migrations; returns the versions this call applied. */
export async function migrate(db: Database): Promise<number[]> {
  return db.transaction(async (tx) => {
    await tx.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK]);
    await tx.query(
      `CREATE TABLE IF NOT EXISTS lgts_migrations (
         version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    const { rows } = await tx.query<{ version: number }>("SELECT version FROM lgts_migrations");
    const applied = new Set(rows.map((r) => r.version));
    const latest = Math.max(0, ...applied);
    const known = MIGRATIONS.at(-1)?.version ?? 0;
    if (latest > known) {
      throw new Error(`the database schema is version ${latest}, newer than this server knows (${known}): upgrade the server`);
    }
    const done: number[] = [];
    for (const migration of MIGRATIONS) {
      if (applied.has(migration.version)) continue;
      await tx.query(migration.sql);
      await tx.query("INSERT INTO lgts_migrations (version, name) VALUES ($1, $2)", [migration.version, migration.name]);
      done.push(migration.version);
    }
    return done;
  });
}
