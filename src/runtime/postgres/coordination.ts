/**
 * Everything several server processes on one PostgreSQL database share besides storage: the
 * LISTEN connection, the run engine's parts (broker, claiming dispatcher with leases and reaper,
 * stop channel) and the cluster (advisory locks, nudges). Opened once per process; `close`
 * after the engine and the schedulers stopped.
 */
import type { Logger } from "pino";
import type { Cluster } from "../cluster.js";
import type { RunEngineParts } from "../runs/engine.js";
import { PostgresRunEventLog } from "../../storage/postgres/run-events.js";
import { PostgresRunLeases, WORKER_LOCK } from "../../storage/postgres/run-leases.js";
import { registerWorker, unregisterWorker } from "../../storage/postgres/worker-locks.js";
import { newProcessId } from "../process-id.js";
import { PostgresCluster } from "./cluster.js";
import { Notifications, type SqlDatabase } from "./notifications.js";
import { PostgresRunEventBroker } from "./run-broker.js";
import { PostgresRunDispatcher } from "./run-dispatcher.js";
import { PostgresStopChannel } from "./stop-channel.js";

export interface PostgresCoordinationOptions {
  uri: string;
  db: SqlDatabase;
  logger: Logger;
  concurrency: number;
  maxAttempts: number;
  resumableRetentionMs: number;
  /** How long a run's lease lasts without renewal: a dead process's runs resume within about that. */
  leaseMs: number;
}

export interface PostgresCoordination {
  parts: RunEngineParts;
  cluster: Cluster;
  /** This process's name in run leases. */
  workerId: string;
  close(): Promise<void>;
}

/**
 * Draws this process's worker id and takes its worker lock (others tell from it that the process
 * is alive: see run-leases.ts). Another live process drawing a key with the same hash is unlikely
 * but possible: then another id is drawn.
 */
async function holdWorkerLock(notifications: Notifications): Promise<string> {
  for (let draws = 1; ; draws++) {
    const workerId = newProcessId();
    if ((await notifications.holdLock(WORKER_LOCK, workerId)) || draws === 3) return workerId;
    notifications.forgetLock(WORKER_LOCK, workerId);
  }
}

export async function openPostgresCoordination(options: PostgresCoordinationOptions): Promise<PostgresCoordination> {
  const { uri, db, logger } = options;
  const notifications = new Notifications(uri, db, logger);
  await notifications.start();
  const workerId = await holdWorkerLock(notifications);
  await registerWorker(db, workerId);
  const broker = new PostgresRunEventBroker({
    events: new PostgresRunEventLog(db),
    notifications,
    logger,
    retentionMs: options.resumableRetentionMs,
  });
  const stops = new PostgresStopChannel(notifications, logger);
  try {
    await broker.start();
    await stops.start();
  } catch (error) {
    await notifications.close();
    throw error;
  }
  const dispatcher = new PostgresRunDispatcher({
    leases: new PostgresRunLeases(db),
    notifications,
    logger,
    workerId,
    concurrency: options.concurrency,
    maxAttempts: options.maxAttempts,
    leaseMs: options.leaseMs,
  });
  return {
    parts: { broker, dispatcher, stops },
    cluster: new PostgresCluster(db, notifications, logger),
    workerId,
    close: async () => {
      // a process leaving on purpose says so; one that dies is told apart by its worker lock
      await unregisterWorker(db, workerId).catch((error: unknown) => logger.warn({ err: error }, "cannot remove this process from workers"));
      await notifications.close();
    },
  };
}
