import { once } from "node:events";
import type { RequestHandler } from "express";
import { actingAs, AuthLoadError, loadAuth, RequestAuthenticator } from "./auth/index.js";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { readFileSync } from "node:fs";
import { openTracing } from "./telemetry/tracing.js";
import { langSmithFromEnv } from "./runtime/runs/langsmith.js";
import { tracedStorage } from "./telemetry/traced-storage.js";
import path from "node:path";
import { pino, type Logger } from "pino";
import type { ServerOptions } from "./config.js";
import { createApp } from "./http/app.js";
import { expressServer } from "./http/express-server.js";
import { serveUpgrades } from "./http/websocket.js";
import type { ContractViolation } from "./http/contract-check.js";
import { createMetrics } from "./http/metrics.js";
import { operationHandlers } from "./handlers/index.js";
import { StorageCheckpointSaver } from "./runtime/checkpointer.js";
import { loadGraphRegistry, splitImportString, type LanggraphConfig } from "./runtime/graphs/index.js";
import { CustomAppError, loadCustomRoutes } from "./http/custom-routes.js";
import { devRoutes } from "./http/dev-routes.js";
import { ensureSystemAssistants } from "./runtime/system-assistants.js";
import { parseDefaultConfig } from "./runtime/graphs/default-config.js";
import { WebhookPolicy, WebhookSettingsError } from "./runtime/webhooks/policy.js";
import {
  closeServerScope,
  installSdkGlobals,
  loadingAs,
  openServerScope,
  pointApiUrlAt,
  withinServerScope,
  type ServerScope,
} from "./runtime/graphs/sdk-process.js";
import { redactedUri } from "./storage/index.js";
import type { Services } from "./services.js";
import { ThreadTtlSweeper } from "./runtime/threads/ttl.js";
import { ComposedRunEngine, RUN_ENGINE_DEFAULTS } from "./runtime/runs/run-engine.js";
import { BackendOpenError, openBackend, type Backend } from "./backends/index.js";
import { Teardown } from "./teardown.js";
import { newProcessId } from "./runtime/process-id.js";
import { CronScheduler } from "./runtime/crons/scheduler.js";
import { cronLauncher, type CronCaller } from "./app/cron-firings.js";
import { KEEP_ALIVE_INTERVAL_MS } from "./http/keep-alive.js";
import { normalizeUser } from "./auth/user.js";
import { openServerStore, type ServerStore } from "./runtime/store/index.js";
import { GraphUis } from "./runtime/ui/index.js";
import { packageFile } from "./package-files.js";
import { IDLE_MEMORY_DEFAULTS, IdleMemoryRelease } from "./idle-memory.js";

/** A cron's firing asks the Auth's handlers as its creator, as a request of theirs would. */
function cronCaller(authenticator: RequestAuthenticator | undefined): CronCaller {
  return (user) => (user && authenticator ? authenticator.actingAs(normalizeUser(user)) : actingAs(user && normalizeUser(user)));
}

/** A startup failure the user can fix (bad config, busy port): reported as one line. */
export class StartupError extends Error {}

export interface StartOptions extends Omit<ServerOptions, "mode" | "reload"> {
  mode?: ServerOptions["mode"];
  logger?: Logger;
  /** Overrides the `dev` default of logging violations (tests fail on them instead). */
  onContractViolation?: (violation: ContractViolation) => void;
  /** The process is this server's (lgts): give memory back to the system when it goes idle (src/idle-memory.ts). */
  releaseIdleMemory?: boolean;
}

export interface RunningServer {
  url: string;
  port: number;
  logger: Logger;
  services: Services;
  /**
   * Stops the server; running runs get `graceMs` (default: the shutdown grace) to finish, the
   * others resume at the next start.
   */
  close(graceMs?: number): Promise<void>;
}

const VERSION = (JSON.parse(readFileSync(packageFile("package.json"), "utf8")) as { version: string }).version;

export async function startServer(options: StartOptions): Promise<RunningServer> {
  // asynchronous: lines written while a write is in flight go out together in the next one;
  // pino flushes what is buffered when the process exits, and close() flushes it too
  const logger = options.logger ?? pino({ name: "lgts" }, pino.destination({ sync: false }));
  // before the graphs load: a module may call getLogger() at its top level. getLogger() and
  // `new Client()` answer for this server's graphs and custom routes even when other servers
  // share the process (sdk-process.ts).
  installSdkGlobals();
  const scope: ServerScope = { logger };
  const teardown = new Teardown();
  try {
    return await compose(options, logger, scope, teardown);
  } catch (error) {
    // a startup that failed halfway: what it opened is closed again, newest first
    await teardown.run().catch((undoError: unknown) => logger.error({ err: undoError }, "closing a server that failed to start"));
    throw error;
  }
}

/**
 * The composition root: loads the project, opens the backend the configuration picks and builds
 * everything on it, registering how to undo each step in `teardown` as it goes.
 */
async function compose(options: StartOptions, logger: Logger, scope: ServerScope, teardown: Teardown): Promise<RunningServer> {
  let graphs;
  let assistantDefaults;
  try {
    graphs = await loadingAs(scope, () => loadGraphRegistry(options.configPath));
    assistantDefaults = parseDefaultConfig(process.env.LANGGRAPH_CONFIG, graphs.graphIds);
  } catch (error) {
    throw new StartupError(`Cannot load graphs from ${options.configPath}: ${(error as Error).message}`);
  }
  let ui: GraphUis;
  try {
    // with the UI routes disabled nothing would serve the bundles: they are not built
    ui = await GraphUis.build(graphs.config.http?.disable_ui ? { ...graphs.config, ui: null } : graphs.config);
  } catch (error) {
    throw new StartupError(`Cannot bundle the UI components of ${options.configPath}: ${(error as Error).message}`);
  }
  if (!options.databaseUri && options.runs?.leaseMs !== undefined) {
    throw new StartupError("--run-lease/LGTS_RUN_LEASE applies to several processes sharing PostgreSQL: set --database-uri/DATABASE_URI too");
  }
  let webhooks: WebhookPolicy;
  try {
    webhooks = new WebhookPolicy(graphs.config.webhooks, process.env, options.mode === "dev" ? "dev" : "serve");
  } catch (error) {
    if (error instanceof WebhookSettingsError)
      throw new StartupError(`Cannot apply the webhooks settings of ${options.configPath}: ${error.message}`);
    throw error;
  }
  // OpenTelemetry when the OTEL_* variables ask for it: nothing is wrapped otherwise
  const tracing = await openTracing(process.env, VERSION);
  if (tracing) teardown.add("trace exporter", () => tracing.close());
  // LangSmith when an API key is set, as on LangGraph Platform
  const langsmith = await langSmithFromEnv(process.env);
  const runSettings = {
    ...RUN_ENGINE_DEFAULTS,
    ...options.runs,
    ...(graphs.config.http?.disable_webhooks ? { sendWebhooks: false } : {}),
  };
  let backend: Backend;
  try {
    backend = await openBackend(options, { runs: runSettings, logger });
  } catch (error) {
    if (error instanceof BackendOpenError) throw new StartupError(error.message);
    throw error;
  }
  teardown.add(`${backend.storage.backend} backend`, () => backend.close());
  const storage = tracing ? tracedStorage(backend.storage, tracing.tracer) : backend.storage;
  let store: ServerStore;
  try {
    store = await openServerStore(storage.storeItems, graphs.config.store, graphs.config.configDir, logger, backend.cluster);
  } catch (error) {
    throw new StartupError(`Cannot set up the store of ${options.configPath}: ${(error as Error).message}`);
  }
  teardown.add("store", () => store.close());
  const checkpointer = new StorageCheckpointSaver(storage.checkpoints);
  const threadTtl = new ThreadTtlSweeper(storage, logger, (threadId) => storage.checkpoints.pruneKeepLatest(threadId), backend.cluster);
  const processId = backend.workerId ?? newProcessId();
  const runs = new ComposedRunEngine(
    {
      storage,
      graphs,
      checkpointer,
      store,
      logger,
      cluster: backend.cluster,
      workerId: processId,
      // a webhook given as a path is posted to this server, once it listens
      webhookTargets: { policy: webhooks, serverUrl: () => scope.apiUrl },
      ...(tracing ? { tracer: tracing.tracer } : {}),
      langsmith,
    },
    backend.parts,
    runSettings,
  );
  const services: Services = {
    storage,
    checkpointer,
    threadTtl,
    store,
    graphs,
    runs,
    webhooks,
    crons: new CronScheduler(storage, logger, backend.cluster, options.cronSeconds ?? false),
    langsmith,
    ui,
    metrics: createMetrics(),
    logger,
    version: VERSION,
    readiness: { ready: true },
    processId,
    waitKeepAliveMs: options.waitKeepAliveMs ?? KEEP_ALIVE_INTERVAL_MS,
  };

  await ensureSystemAssistants(storage, graphs, assistantDefaults);
  await threadTtl.start();
  teardown.add("thread TTL sweeps", () => threadTtl.stop());
  // runs left by a previous process are scheduled before any new request arrives
  await runs.start();
  // close() lets them finish first (drain); a failed startup stops them at once
  teardown.add("run engine", () => runs.shutdown(0));

  let authenticator: RequestAuthenticator | undefined;
  const authPath = graphs.config.auth?.path;
  if (authPath) {
    try {
      authenticator = new RequestAuthenticator(await loadAuth(authPath, graphs.config.configDir), logger, graphs.config.auth?.cache);
    } catch (error) {
      if (error instanceof AuthLoadError) throw new StartupError(`Cannot load the auth of ${options.configPath}: ${error.message}`);
      throw error;
    }
  }
  // cron firings create runs through the same services and authorization the handlers use
  await services.crons.start(cronLauncher(services, cronCaller(authenticator)));
  teardown.add("cron scheduler", () => services.crons.stop());
  let customRoutes;
  try {
    customRoutes = await loadingAs(scope, () => loadHttpApp(graphs.config, scope));
  } catch (error) {
    if (error instanceof CustomAppError) throw new StartupError(`Cannot load the custom routes of ${options.configPath}: ${error.message}`);
    throw error;
  }
  const onContractViolation =
    options.onContractViolation ??
    (options.mode === "dev" ? (v: ContractViolation) => logger.warn(v, "response violates the API contract") : undefined);
  const { app } = await createApp({
    services,
    handlers: operationHandlers,
    logger,
    onContractViolation,
    ...(customRoutes ? { customRoutes } : {}),
    ...(authenticator ? { authenticator } : {}),
    ...(options.mode === "dev" ? { devRoutes: devRoutes(services) } : {}),
    ...(tracing ? { tracer: tracing.tracer } : {}),
    ...(options.console === false ? { console: false } : {}),
  });
  const server = expressServer(app);
  const closeSockets = serveUpgrades(server, app);
  if (options.releaseIdleMemory) {
    let unfinished = 0; // responses not finished yet (a stream among them)
    const idleMemory = new IdleMemoryRelease({ ...IDLE_MEMORY_DEFAULTS, busy: () => unfinished > 0 || runs.load.running > 0 });
    server.on("request", (_req: IncomingMessage, res: ServerResponse) => {
      unfinished++;
      res.once("close", () => unfinished--);
      idleMemory.activity();
    });
    teardown.add("idle memory release", () => idleMemory.stop());
  }
  try {
    await listen(server, options.port, options.host);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EADDRINUSE") {
      throw new StartupError(`Port ${options.port} on ${options.host} is already in use: choose another with --port <n> or PORT=<n>.`);
    }
    throw error;
  }
  teardown.add("HTTP server", async () => {
    const closed = once(server, "close");
    closeSockets();
    server.close();
    server.closeAllConnections();
    await closed;
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${options.host.includes(":") ? `[${options.host}]` : options.host}:${port}`;
  const where = options.databaseUri ? { database: redactedUri(options.databaseUri) } : { dataDir: options.dataDir };
  logger.info({ url, graphs: graphs.graphIds, storage: storage.backend, ...where }, "listening");
  scope.apiUrl = ownApiUrl(options.host, port, graphs.config.http?.mount_prefix);
  openServerScope(scope, store);
  teardown.add("SDK scope", () => closeServerScope(scope));
  const selfUrl = pointApiUrlAt(scope.apiUrl, logger);
  teardown.add("LANGGRAPH_API_URL", () => selfUrl.release());

  return {
    url,
    port,
    logger,
    services,
    async close(graceMs?: number) {
      // Readiness fails at once and no new run starts here; running runs get the grace period to
      // finish while the server goes on serving (their streams and waiting clients get every
      // event, and a load balancer that has not yet seen the readiness failure still reaches a
      // server that answers). The runs still running then are handed back (another process, or
      // the next start, resumes them); dropping the connections (teardown) ends their streams
      // without an end event, so the SDK reconnects (to another replica) after its last event.
      services.readiness.ready = false;
      await services.crons.stop();
      await runs.shutdown(graceMs);
      try {
        await teardown.run();
      } finally {
        await new Promise<void>((resolve) => logger.flush(() => resolve()));
      }
    },
  };
}

/** `http.app` as Express middleware, its requests handled in the server's scope; undefined when the config has none. */
async function loadHttpApp(config: LanggraphConfig, scope: ServerScope): Promise<RequestHandler | undefined> {
  const source = config.http?.app;
  if (!source) return undefined;
  const { file, exportName } = splitImportString(source);
  const routes = await loadCustomRoutes(path.resolve(config.configDir, file), exportName, source);
  return (req, res, next) => withinServerScope(scope, () => routes(req, res, next));
}

/** The URL at which a server is reached from this machine (a wildcard address through loopback). */
function ownApiUrl(host: string, port: number, mountPrefix: string | undefined): string {
  const reachable = host === "0.0.0.0" ? "127.0.0.1" : host === "::" ? "[::1]" : host.includes(":") ? `[${host}]` : host;
  return `http://${reachable}:${port}${mountPrefix ?? ""}`;
}

async function listen(server: Server, port: number, host: string) {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
}
