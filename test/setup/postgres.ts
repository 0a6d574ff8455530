/**
 * vitest global setup: one PostgreSQL server for the whole run, with a template database that
 * holds the schema (tests clone it, see test/support/postgres.ts); stopped when the run ends.
 */
import pg from "pg";
import type { TestProject } from "vitest/node";
import { PostgresStorage } from "../../src/storage/postgres/storage.js";
import { startPostgres } from "../support/postgres-server.js";
import { databaseUri, TEMPLATE_DATABASE } from "../support/postgres.js";

declare module "vitest" {
  export interface ProvidedContext {
    postgresUri: string;
  }
}

export default async function setup(project: TestProject) {
  const server = await startPostgres();
  try {
    const client = new pg.Client({ connectionString: server.uri });
    await client.connect();
    await client.query(`CREATE DATABASE ${TEMPLATE_DATABASE}`);
    await client.end();
    const storage = await PostgresStorage.open({ uri: databaseUri(server.uri, TEMPLATE_DATABASE) });
    await storage.close();
  } catch (error) {
    await server.stop();
    throw error;
  }
  project.provide("postgresUri", server.uri);
  return () => server.stop();
}
