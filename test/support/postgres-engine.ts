/**
 * A run engine of one server process on a test database, composed as the server composes it
 * (PostgreSQL coordination: dispatcher, broker, leases), webhooks off.
 */
import { pino } from "pino";
import { StorageCheckpointSaver } from "../../src/runtime/checkpointer.js";
import type { GraphRegistry } from "../../src/runtime/graphs/index.js";
import { openPostgresCoordination } from "../../src/runtime/postgres/coordination.js";
import { ComposedRunEngine } from "../../src/runtime/runs/run-engine.js";
import type { PostgresStorage } from "../../src/storage/postgres/storage.js";

export interface PostgresEngineOptions {
  uri: string;
  storage: PostgresStorage;
  graphs: GraphRegistry;
  /** Runs executing at once. */
  concurrency: number;
  leaseMs: number;
  /** Executions of a run before it ends as an error (the engine's default: 3). */
  maxAttempts?: number;
}

export async function startPostgresEngine({ uri, storage, graphs, concurrency, leaseMs, maxAttempts = 3 }: PostgresEngineOptions) {
  const logger = pino({ level: "silent" });
  const coordination = await openPostgresCoordination({
    uri,
    db: storage.db,
    logger,
    concurrency,
    maxAttempts,
    resumableRetentionMs: 60_000,
    leaseMs,
  });
  const checkpointer = new StorageCheckpointSaver(storage.checkpoints);
  const engine = new ComposedRunEngine({ storage, graphs, checkpointer, logger, cluster: coordination.cluster }, coordination.parts, {
    concurrency,
    maxAttempts,
    leaseMs,
    sendWebhooks: false,
  });
  await engine.start();
  return { engine, coordination };
}
