/**
 * An archive carries every column of the PostgreSQL schema: each table is restored column by
 * column (RESTORED_COLUMNS), leaves a column to its default on purpose (NOT_RESTORED), or is left
 * out whole (NOT_ARCHIVED_TABLES). A migration adding a column to an archived table fails this
 * until the archive carries it, so a move between backends never drops it silently.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NOT_ARCHIVED_TABLES, NOT_RESTORED, RESTORED_COLUMNS } from "../../src/storage/postgres/archive-restore.js";
import { PostgresStorage } from "../../src/storage/postgres/storage.js";
import { createTestDatabase, type TestDatabase } from "../support/postgres.js";

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
  await (await PostgresStorage.open({ uri: database.uri, poolMax: 1 })).close(); // every migration applied
});
afterAll(async () => {
  await database?.drop();
});

describe("archive columns", () => {
  it("restores every column of every table but those left out on purpose", async () => {
    const client = new pg.Client({ connectionString: database.uri });
    await client.connect();
    try {
      const { rows } = await client.query<{ table_name: string; column_name: string }>(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public' ORDER BY table_name, ordinal_position",
      );
      const schema: Record<string, string[]> = {};
      for (const { table_name, column_name } of rows) (schema[table_name] ??= []).push(column_name);
      const archived = Object.keys(schema)
        .filter((t) => !NOT_ARCHIVED_TABLES.includes(t))
        .sort();
      expect(archived).toEqual(Object.keys(RESTORED_COLUMNS).sort());
      for (const table of archived) {
        const carried = [...RESTORED_COLUMNS[table as keyof typeof RESTORED_COLUMNS], ...Object.keys(NOT_RESTORED[table] ?? {})];
        expect([...carried].sort(), table).toEqual([...schema[table]].sort());
      }
    } finally {
      await client.end();
    }
  });
});
