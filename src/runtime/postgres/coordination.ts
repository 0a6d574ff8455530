/**
 * Everything several server processes on one PostgreSQL database share besides storage: the
 * LISTEN connection, the run engine's parts (broker, claiming dispatcher with leases and reaper,
 * stop channel) and the cluster (advisory locks, nudges). Opened once per process; `close`
 * after the engine and the schedulers stopped.
 */
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import type { Logger } from "pino";
import type { Storage } from "../../storage/types.js";
import type { Cluster } from "../cluster.js";
import type { RunEngineParts } from "../runs/engine.js";
import { PostgresCluster } from "./cluster.js";
import { Notifications, type SqlDatabase } from "./notifications.js";
import { PostgresRunEventBroker } from "./run-broker.js";
import { PostgresRunDispatcher } from "./run-dispatcher.js";
import { PostgresStopChannel } from "./stop-channel.js";

export interface PostgresCoordinationOptions {
  uri: string;
  db: SqlDatabase;
  storage: Storage;
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

export async function openPostgresCoordination(options: PostgresCoordinationOptions): Promise<PostgresCoordination> {
  const { uri, db, storage, logger } = options;
  const notifications = new Notifications(uri, db, logger);
  await notifications.start();
  const workerId = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const broker = new PostgresRunEventBroker({ db, notifications, logger, retentionMs: options.resumableRetentionMs });
  const stops = new PostgresStopChannel(notifications, logger);
  try {
    await broker.start();
    await stops.start();
  } catch (error) {
    await notifications.close();
    throw error;
  }
  const dispatcher = new PostgresRunDispatcher({
    db,
    notifications,
    storage,
    broker,
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
    close: () => notifications.close(),
  };
}

/** The schema these parts need (a storage migration applies it). */
export const RUN_COORDINATION_SQL = /* sql */ `
ALTER TABLE runs ADD COLUMN lease_owner text COLLATE "C", ADD COLUMN lease_expires_at timestamptz;
CREATE INDEX runs_claimable ON runs (created_at, run_id) WHERE status = 'pending';
CREATE INDEX runs_thread_active ON runs (thread_id, status, created_at, run_id) WHERE status IN ('pending', 'running');
CREATE INDEX runs_leases ON runs (lease_expires_at) WHERE status = 'running';
CREATE INDEX runs_delayed ON runs (not_before) WHERE status = 'pending';

CREATE TABLE run_events (
  run_id     text COLLATE "C" NOT NULL,
  seq        integer NOT NULL,
  thread_id  text COLLATE "C",
  mode       text NOT NULL,
  ns         text NOT NULL,
  data       text NOT NULL,
  resumable  boolean NOT NULL,
  expires_at timestamptz,
  PRIMARY KEY (run_id, seq)
);
CREATE UNIQUE INDEX run_events_end ON run_events (run_id) WHERE mode = '__end__';
CREATE INDEX run_events_held ON run_events (thread_id, run_id) WHERE mode = '__end__';
CREATE INDEX run_events_expiry ON run_events (expires_at) WHERE mode = '__end__';
`;
