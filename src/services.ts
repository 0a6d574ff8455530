import type { Logger } from "pino";
import type { Metrics } from "./http/metrics.js";
import type { GraphRegistry } from "./runtime/graphs/index.js";
import type { Storage } from "./storage/types.js";
import type { ThreadTtlSweeper } from "./runtime/thread-ttl.js";

/** What handlers may call: everything below the HTTP layer, wired once at startup. */
export interface Services {
  storage: Storage;
  threadTtl: ThreadTtlSweeper;
  graphs: GraphRegistry;
  metrics: Metrics;
  logger: Logger;
  version: string;
}
