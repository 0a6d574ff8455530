/**
 * How this process works with the others of its deployment: alone, on the embedded store (the
 * run engine's local parts), or as one of several processes sharing a PostgreSQL database
 * (claims, leases, events and cancels through the database; locks and nudges for crons and TTL
 * sweeps). Everything above this module is the same either way.
 */
import type { Logger } from "pino";
import { PostgresStorage } from "../storage/postgres/storage.js";
import type { Storage } from "../storage/types.js";
import { LocalCluster, type Cluster } from "./cluster.js";
import { openPostgresCoordination } from "./postgres/coordination.js";
import type { RunEngineOptions, RunEngineParts } from "./runs/engine.js";
import { localRunParts } from "./runs/local-parts.js";

export interface Deployment {
  kind: "single-process" | "postgres";
  parts: RunEngineParts;
  cluster: Cluster;
  /** This process's name among the deployment's (PostgreSQL: held with its worker lock); none alone. */
  workerId?: string;
  /** After the engine and the schedulers stopped. */
  close(): Promise<void>;
}

export async function openDeployment(
  storage: Storage,
  options: { databaseUri?: string; runs: Required<RunEngineOptions>; logger: Logger },
): Promise<Deployment> {
  const { runs, logger } = options;
  if (storage instanceof PostgresStorage && options.databaseUri) {
    const coordination = await openPostgresCoordination({
      uri: options.databaseUri,
      db: storage.db,
      logger,
      concurrency: runs.concurrency,
      maxAttempts: runs.maxAttempts,
      resumableRetentionMs: runs.resumableRetentionMs,
      leaseMs: runs.leaseMs,
    });
    return { kind: "postgres", parts: coordination.parts, cluster: coordination.cluster, workerId: coordination.workerId, close: coordination.close };
  }
  return {
    kind: "single-process",
    parts: localRunParts({ storage, logger, ...runs }),
    cluster: new LocalCluster(),
    close: async () => {},
  };
}
