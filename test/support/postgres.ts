/**
 * Databases on the test run's PostgreSQL server (started by test/setup/postgres.ts): each caller
 * gets its own database, cloned from a template that already holds the schema, and drops it
 * when done.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { inject } from "vitest";

export const TEMPLATE_DATABASE = "lgts_template";

/** Which backend the storage and API suites run on in this vitest project. */
export const TEST_STORAGE: "lowdb" | "postgres" = process.env.LGTS_TEST_STORAGE === "postgres" ? "postgres" : "lowdb";

export function databaseUri(serverUri: string, database: string): string {
  const url = new URL(serverUri);
  url.pathname = `/${database}`;
  return url.toString();
}

async function admin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: inject("postgresUri") });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/**
 * A pool for a test's own queries. Its `end()` resolves once it asked its connections to close,
 * not once they have: the database's drop (`WITH FORCE`) right after may still terminate one, and
 * a pool without an error listener throws that as an uncaught exception (57P01). An idle
 * connection lost otherwise is dropped by the pool; the next query opens another.
 */
export function testPool(uri: string, max = 2): pg.Pool {
  const pool = new pg.Pool({ connectionString: uri, max });
  pool.on("error", () => {});
  return pool;
}

export interface TestDatabase {
  uri: string;
  name: string;
  drop(): Promise<void>;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `lgts_${randomBytes(6).toString("hex")}`;
  await admin((c) => c.query(`CREATE DATABASE ${name} TEMPLATE ${TEMPLATE_DATABASE}`));
  let dropped: Promise<void> | undefined;
  return {
    name,
    uri: databaseUri(inject("postgresUri"), name),
    drop: () => (dropped ??= admin(async (c) => void (await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)))),
  };
}
