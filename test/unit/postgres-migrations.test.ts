/** Migrations: applied once even when several processes start together; a newer schema refuses to start. */
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { MIGRATIONS } from "../../src/storage/postgres/migrations.js";
import { PostgresStorage } from "../../src/storage/postgres/storage.js";
import { databaseUri } from "../support/postgres.js";
import { inject } from "vitest";

const created: string[] = [];

async function admin(sql: string) {
  const client = new pg.Client({ connectionString: inject("postgresUri") });
  await client.connect();
  try {
    return await client.query(sql);
  } finally {
    await client.end();
  }
}

/** An empty database (not the migrated template). */
async function emptyDatabase(): Promise<string> {
  const name = `lgts_empty_${crypto.randomUUID().replace(/-/g, "").slice(0, 12)}`;
  await admin(`CREATE DATABASE ${name}`);
  created.push(name);
  return databaseUri(inject("postgresUri"), name);
}

afterEach(async () => {
  for (const name of created.splice(0)) await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
});

describe("PostgreSQL migrations", () => {
  it("applies each migration exactly once when several servers start at once", async () => {
    const uri = await emptyDatabase();
    const opened = await Promise.all(Array.from({ length: 4 }, () => PostgresStorage.open({ uri, poolMax: 2 })));
    try {
      const { rows } = await opened[0].db.query<{ version: number }>("SELECT version FROM lgts_migrations ORDER BY version");
      expect(rows.map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));
      // every server works on the one schema
      const thread = await opened[1].threads.create();
      expect((await opened[3].threads.get(thread.thread_id)).thread_id).toBe(thread.thread_id);
    } finally {
      await Promise.all(opened.map((s) => s.close()));
    }
  });

  it("refuses a database whose schema is newer than the server", async () => {
    const uri = await emptyDatabase();
    const storage = await PostgresStorage.open({ uri, poolMax: 1 });
    await storage.db.query("INSERT INTO lgts_migrations (version, name) VALUES (9999, 'from the future')");
    await storage.close();
    await expect(PostgresStorage.open({ uri, poolMax: 1 })).rejects.toThrow(/schema is version 9999, newer than this server knows/);
  });

  it("fails to open, naming the reason, when the database does not exist", async () => {
    const uri = databaseUri(inject("postgresUri"), "lgts_no_such_database");
    await expect(PostgresStorage.open({ uri, poolMax: 1 })).rejects.toThrow(/database "lgts_no_such_database" does not exist/);
  });
});
