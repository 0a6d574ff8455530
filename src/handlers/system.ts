import { HttpError } from "../http/errors.js";
import type { OperationHandlers } from "../http/operations.js";
import { createRequire } from "node:module";
import { loadContract } from "../http/contract.js";
import { publishedContract } from "../http/published-contract.js";
import type { HttpConfig } from "../runtime/graphs/config.js";
import { readiness, serverMetadata, serverProcesses } from "../app/system.js";

type SystemOperations = "healthCheck" | "getInfo" | "getMetrics" | "listProcesses" | "getOpenApiDocument";

const contract = loadContract();
/** The document each configuration publishes (a dev reload brings a new configuration). */
const published = new WeakMap<object, ReturnType<typeof publishedContract>>();

/** What this server serves, as `/info` reports it. */
const FEATURES = {
  assistants: true,
  threads: true,
  runs: true,
  streaming: true,
  crons: true,
  store: true,
  mcp: true,
  a2a: true,
} as const;
/** The `http.disable_*` switch that turns each feature's routes off. */
const FEATURE_SWITCHES = {
  assistants: "disable_assistants",
  threads: "disable_threads",
  runs: "disable_runs",
  streaming: "disable_runs",
  crons: "disable_runs",
  store: "disable_store",
  mcp: "disable_mcp",
  a2a: "disable_a2a",
} as const satisfies Record<keyof typeof FEATURES, keyof HttpConfig>;

/** The features this server serves: those whose routes `http.disable_*` removed are off. */
function servedFeatures(http: HttpConfig | null | undefined): Record<keyof typeof FEATURES, boolean> {
  const entries = Object.entries(FEATURES).map(([name, on]) => [name, on && !http?.[FEATURE_SWITCHES[name as keyof typeof FEATURES]]]);
  return Object.fromEntries(entries) as Record<keyof typeof FEATURES, boolean>;
}

const LANGGRAPH_VERSION = (createRequire(import.meta.url)("@langchain/langgraph/package.json") as { version: string }).version;

export const systemHandlers: OperationHandlers<SystemOperations> = {
  async healthCheck({ query, services }) {
    if (query.check_db) {
      const state = await readiness(services);
      // an unreachable database is a 503 (retry later), anything else a failure of the server
      if (!state.ready) throw new HttpError(state.retry ? 503 : 500, state.detail);
      return { status: 200, body: { ok: true, storage: state.storage } };
    }
    return { status: 200, body: { ok: true } };
  },

  async getInfo({ services }) {
    return {
      status: 200,
      body: {
        version: services.version,
        langgraph_js_version: LANGGRAPH_VERSION,
        flags: servedFeatures(services.graphs.config.http),
        metadata: serverMetadata(services),
      },
    };
  },

  async getMetrics({ query, services }) {
    const { registry } = services.metrics;
    if (query.format === "json") {
      const metrics = await registry.getMetricsAsJSON();
      return { status: 200, body: Object.fromEntries(metrics.map((m) => [m.name, m])) };
    }
    return { status: 200, body: await registry.metrics(), contentType: registry.contentType };
  },

  async listProcesses({ services, auth }) {
    const processes = await serverProcesses(services, auth);
    const view = processes.map(({ runs, ...process }) => ({
      ...process,
      runs: runs.map((run) => ({
        run_id: run.run_id,
        thread_id: run.thread_id,
        status: "running" as const,
        attempt: run.attempt,
        since: run.updated_at,
      })),
    }));
    return { status: 200, body: { processes: view } };
  },

  async getOpenApiDocument({ services }) {
    const config = services.graphs.config;
    let document = published.get(config);
    if (!document) {
      document = publishedContract(contract, config.http);
      published.set(config, document);
    }
    return { status: 200, body: document as never };
  },
};
