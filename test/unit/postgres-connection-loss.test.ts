/**
 * Connections the database drops: a transaction whose connection is terminated under it rejects
 * with StorageUnavailableError (503) instead of crashing the process with an unhandled "error"
 * event, and the pool serves the next call with a fresh connection.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StorageUnavailableError } from "../../src/storage/errors.js";
import { Database } from "../../src/storage/postgres/database.js";
import { createTestDatabase, type TestDatabase } from "../support/postgres.js";
import { eventually } from "../support/runs.js";

let database: TestDatabase;
let admin: pg.Client;

beforeAll(async () => {
  database = await createTestDatabase();
  admin = new pg.Client({ connectionString: database.uri });
  await admin.connect();
});
afterAll(async () => {
  await admin?.end();
  await database?.drop();
});

/** Terminates a backend and waits until the server no longer lists it. */
async function terminate(pid: number): Promise<void> {
  await admin.query("SELECT pg_terminate_backend($1)", [pid]);
  await eventually(
    async () => {
      const { rowCount } = await admin.query("SELECT 1 FROM pg_stat_activity WHERE pid = $1", [pid]);
      return rowCount === 0 ? true : undefined;
    },
    10_000,
    "the backend to exit",
  );
}

describe("a connection lost inside a transaction", () => {
  it("rejects the transaction with StorageUnavailableError, and the pool reconnects", async () => {
    const db = new Database(database.uri, { poolMax: 2 });
    try {
      const lost = db.transaction(async (tx) => {
        const { rows } = await tx.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
        await terminate(rows[0].pid);
        // the loss reaches the checked-out connection while the work still holds it
        await new Promise((resolve) => setImmediate(resolve));
        await tx.query("SELECT 1");
      });
      await expect(lost).rejects.toBeInstanceOf(StorageUnavailableError);
      expect((await db.query<{ one: number }>("SELECT 1 AS one")).rows).toEqual([{ one: 1 }]);
      expect(await db.transaction(async (tx) => (await tx.query<{ two: number }>("SELECT 2 AS two")).rows)).toEqual([{ two: 2 }]);
    } finally {
      await db.close();
    }
  });

  it("a connection lost while idle in the pool is replaced on the next call", async () => {
    const db = new Database(database.uri, { poolMax: 1 });
    try {
      const { rows } = await db.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
      await terminate(rows[0].pid);
      const next = await eventually(
        async () => (await db.query<{ pid: number }>("SELECT pg_backend_pid() AS pid").catch(() => undefined))?.rows[0]?.pid,
        10_000,
        "a fresh connection",
      );
      expect(next).not.toBe(rows[0].pid);
    } finally {
      await db.close();
    }
  });
});
