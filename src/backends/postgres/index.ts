/**
 * The PostgreSQL backend: storage in the database (migrated at open) and what the processes
 * sharing it coordinate through it: the LISTEN connection, run claims, leases, events and
 * cancels, advisory locks for crons and sweeps (src/runtime/postgres).
 */
import { openPostgresCoordination } from "../../runtime/postgres/coordination.js";
import type { PostgresStorage } from "../../storage/postgres/storage.js";
import { openStorage, redactedUri } from "../../storage/index.js";
import { BackendOpenError, type Backend, type BackendOptions } from "../backend.js";

const firstLine = (error: unknown) => ((error as Error).message || String(error)).split("\n")[0];

export async function openPostgresBackend(uri: string, options: BackendOptions): Promise<Backend> {
  const { logger, runs } = options;
  let storage: PostgresStorage;
  try {
    storage = await openStorage({ backend: "postgres", uri });
  } catch (error) {
    throw new BackendOpenError(`Cannot use the database ${redactedUri(uri)}: ${firstLine(error)}`);
  }
  try {
    const coordination = await openPostgresCoordination({
      uri,
      db: storage.db,
      logger,
      concurrency: runs.concurrency,
      maxAttempts: runs.maxAttempts,
      resumableRetentionMs: runs.resumableRetentionMs,
      leaseMs: runs.leaseMs,
    });
    return {
      storage,
      parts: coordination.parts,
      cluster: coordination.cluster,
      workerId: coordination.workerId,
      async close() {
        await coordination.close();
        await storage.close();
      },
    };
  } catch (error) {
    await storage.close();
    throw new BackendOpenError(`Cannot listen for the other server processes on the database: ${firstLine(error)}`);
  }
}
