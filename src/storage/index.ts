/** Entry point of the storage layer: pick and open a backend. */
import { LowdbStorage } from "./lowdb/storage.js";
import { PostgresStorage } from "./postgres/storage.js";
import type { Storage } from "./types.js";

export type { Storage } from "./types.js";
export * from "./errors.js";

export interface LowdbConfig {
  backend: "lowdb";
  /** Directory holding the data files (created if missing). */
  dataDir: string;
}
export interface PostgresConfig {
  backend: "postgres";
  /** `postgres://user:password@host:port/database` */
  uri: string;
}
export type StorageConfig = LowdbConfig | PostgresConfig;

/** Opens the configured backend; PostgreSQL is migrated to the current schema first. */
export async function openStorage(config: LowdbConfig): Promise<LowdbStorage>;
export async function openStorage(config: PostgresConfig): Promise<PostgresStorage>;
export async function openStorage(config: StorageConfig): Promise<Storage>;
export async function openStorage(config: StorageConfig): Promise<Storage> {
  switch (config.backend) {
    case "lowdb":
      return LowdbStorage.open({ dataDir: config.dataDir });
    case "postgres":
      return PostgresStorage.open({
        uri: config.uri,
        poolMax: positiveInteger(process.env.LGTS_PG_POOL_MAX),
        statementTimeoutMs: positiveInteger(process.env.LGTS_PG_STATEMENT_TIMEOUT_MS),
      });
  }
}

function positiveInteger(text: string | undefined): number | undefined {
  if (text === undefined || text === "") return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`expected a positive integer, got '${text}'`);
  return n;
}

/** A connection string without its password, for messages and logs. */
export function redactedUri(uri: string): string {
  try {
    const url = new URL(uri);
    if (url.password) url.password = "***";
    return url.toString();
  } catch {
    return "(unparseable URI)";
  }
}
