import type { Logger } from "pino";
import type { Metrics } from "./http/metrics.js";
import type { GraphRegistry } from "./runtime/graphs/index.js";
import type { Storage } from "./storage/types.js";
import type { StorageCheckpointSaver } from "./runtime/checkpointer.js";
import type { ThreadTtlSweeper } from "./runtime/threads/ttl.js";
import type { ServerStore } from "./runtime/store/index.js";
import type { RunEngine } from "./runtime/runs/engine.js";
import type { LangSmith } from "./runtime/runs/langsmith.js";
import type { CronScheduler } from "./runtime/crons/scheduler.js";
import type { GraphUis } from "./runtime/ui/index.js";
import type { WebhookPolicy } from "./runtime/webhooks/policy.js";

/** What handlers may call: everything below the HTTP layer, wired once at startup. */
export interface Services {
  storage: Storage;
  /** The LangGraph checkpointer over `storage.checkpoints` (pass it to `graphs.resolveGraph`). */
  checkpointer: StorageCheckpointSaver;
  threadTtl: ThreadTtlSweeper;
  /** The store graphs receive (pass it to `graphs.resolveGraph`) and the Store API uses. */
  store: ServerStore;
  graphs: GraphRegistry;
  /** Schedules, cancels and awaits runs; carries their events (`runs.broker`). */
  runs: RunEngine;
  /** Where run and cron webhooks may go, and what their deliveries carry (`webhooks` of langgraph.json). */
  webhooks: WebhookPolicy;
  /** LangSmith tracing and feedback, when the environment configures it. */
  langsmith: LangSmith | null;
  /** Fires crons; handlers `nudge` it when a cron's next firing changes. */
  crons: CronScheduler;
  /** The bundled generative-UI components (`ui` of langgraph.json). */
  ui: GraphUis;
  metrics: Metrics;
  logger: Logger;
  version: string;
  /**
   * False from the moment the server starts stopping: readiness probes (`/ok?check_db=1`) fail so
   * load balancers send new work elsewhere, while the process still serves (liveness, `/ok`).
   */
  readiness: { ready: boolean };
  /** This process's name among the deployment's (PostgreSQL: its runs' lease owner). */
  processId: string;
  /** How often `wait` and `join` send a newline while the run works (src/http/keep-alive.ts). */
  waitKeepAliveMs: number;
}
