/**
 * A backend: everything one kind of deployment provides below the HTTP layer, opened and closed
 * as a unit. The embedded store serves one process (src/backends/embedded); PostgreSQL serves any
 * number of processes sharing a database (src/backends/postgres). Everything above is the same
 * either way.
 */
import type { Logger } from "pino";
import type { Cluster } from "../runtime/cluster.js";
import type { RunEngineOptions, RunEngineParts } from "../runtime/runs/engine.js";
import type { Storage } from "../storage/types.js";

export interface Backend {
  storage: Storage;
  /** The run engine's parts: event broker, dispatcher, stop channel. */
  parts: RunEngineParts;
  /** Work one process at a time may do (crons, TTL sweeps), and nudges to the others. */
  cluster: Cluster;
  /** This process's name among the deployment's (PostgreSQL: held with its worker lock); none alone. */
  workerId?: string;
  /** After the engine and the schedulers stopped: closes what the backend opened, storage last. */
  close(): Promise<void>;
}

export interface BackendOptions {
  runs: Required<RunEngineOptions>;
  logger: Logger;
}

/** A backend that could not open, with a message for the operator (one line). */
export class BackendOpenError extends Error {}
