/**
 * The process-wide state through which LangGraph's SDK reaches the server it runs in, as
 * LangGraph servers set it up before loading graphs (a module may call `getLogger()` at its top
 * level). It is the only state servers share in a process:
 *
 * - the logger `getLogger()` of `@langchain/langgraph-sdk/logging` answers: its lines go to the
 *   structured log of the server whose code logs, with the graph, assistant, run, thread and node;
 * - the URL `new Client()` (and `RemoteGraph`) of `@langchain/langgraph-sdk` uses when given no
 *   `apiUrl`: the API of the server whose code asks;
 * - `LANGGRAPH_API_URL`, an environment variable: one value per process (below).
 *
 * Several servers may share a process (tests, embedding). The code that asks is found where it runs:
 * - in a run: by the store the run's config carries (each server gives its runs its own);
 * - in a custom route: by the AsyncLocalStorage scope its requests run in;
 * - at import time (a module's top level): the server loading its graphs;
 * - anywhere else: the latest server started.
 *
 * AsyncLocalStorage is entered for custom routes only: once entered, Node tracks every promise of
 * the process, a cost the built-in routes should not pay (runs pay it anyway: LangGraph uses it).
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { getConfig } from "@langchain/langgraph";
import type { Logger } from "pino";

// ---------------------------------------------------------------------------------------------
// Which server the calling code belongs to.

export interface ServerScope {
  logger: Logger;
  /** The server's own API URL (with its mount prefix); set once it listens. */
  apiUrl?: string;
}

const requestScope = new AsyncLocalStorage<ServerScope>();
/** Servers of this process that started and have not stopped, oldest first. */
const open: ServerScope[] = [];
const byRunStore = new WeakMap<object, ServerScope>();
let loading: ServerScope | undefined;

/** Runs a custom route's handling inside the server's scope. */
export function withinServerScope<T>(scope: ServerScope, handle: () => T): T {
  return requestScope.run(scope, handle);
}

/**
 * Loads a server's graphs as `scope`'s (their modules' top-level code). Servers starting at the
 * same moment in one process may see each other's import-time lines; a module evaluates once
 * per process anyway.
 */
export async function loadingAs<T>(scope: ServerScope, load: () => Promise<T>): Promise<T> {
  const previous = loading;
  loading = scope;
  try {
    return await load();
  } finally {
    loading = previous;
  }
}

/** A running server; `runStore` is the store its runs get (their config's `store`). */
export function openServerScope(scope: ServerScope, runStore: object): void {
  open.push(scope);
  byRunStore.set(runStore, scope);
}

export function closeServerScope(scope: ServerScope): void {
  const index = open.indexOf(scope);
  if (index >= 0) open.splice(index, 1);
}

/** The server's store inside a run's config: LangGraph hands nodes it wrapped in a batching store. */
function unwrapped(runStore: unknown): object | undefined {
  if (typeof runStore !== "object" || runStore === null) return undefined;
  const batched = runStore as { lg_name?: string; store?: unknown };
  return batched.lg_name === "AsyncBatchedStore" && typeof batched.store === "object" && batched.store !== null ? batched.store : runStore;
}

/** The scope of the calling code; `runStore` is the store of the run it is part of, if any. */
function callerScope(runStore: unknown): ServerScope | undefined {
  const store = unwrapped(runStore);
  const ofRun = store ? byRunStore.get(store) : undefined;
  return requestScope.getStore() ?? ofRun ?? loading ?? open.at(-1);
}

// ---------------------------------------------------------------------------------------------
// The SDK's globals: getLogger() and the default API URL.

const GLOBAL_LOGGER = Symbol.for("langgraph.api.sdk-logger");
const GLOBAL_API_URL = Symbol.for("langgraph_api:url");

/** The SDK's logger levels (winston's) and the pino level each writes at. */
const LEVELS = {
  error: "error",
  warn: "warn",
  help: "info",
  data: "info",
  info: "info",
  prompt: "info",
  input: "info",
  http: "debug",
  verbose: "debug",
  debug: "debug",
  silly: "trace",
} as const;

type SdkLogMethod = (message: unknown, ...meta: unknown[]) => SdkLogger;
type SdkLogger = Record<keyof typeof LEVELS, SdkLogMethod>;

/** The runnable config of the calling code (undefined outside a run). */
function callerConfig() {
  try {
    return getConfig();
  } catch {
    return undefined;
  }
}

/** Where the calling code runs, read from the graph's runnable config (none outside a run). */
function runContext(config: ReturnType<typeof callerConfig>): Record<string, unknown> {
  const configurable = config?.configurable ?? {};
  const context: Record<string, unknown> = {};
  for (const key of ["graph_id", "assistant_id", "run_id", "thread_id"]) {
    if (configurable[key] !== undefined) context[key] = configurable[key];
  }
  const node = config?.metadata?.langgraph_node;
  if (node !== undefined) context.langgraph_node = node;
  return context;
}

/** The server of the calling code, and its run's config if it is part of a run. */
function caller(): { server: ServerScope | undefined; config: ReturnType<typeof callerConfig> } {
  const config = callerConfig();
  return { server: callerScope(config?.store), config };
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Error);

/** `(message, ...meta)` or `(infoObject)` as winston takes them, as one pino call's fields and message. */
function entry(message: unknown, meta: unknown[]): { fields: Record<string, unknown>; text: string | undefined } {
  const fields: Record<string, unknown> = {};
  for (const item of meta) {
    if (isRecord(item)) Object.assign(fields, item);
    else if (item instanceof Error) fields.err = item;
  }
  if (isRecord(message)) {
    const { message: text, ...rest } = message;
    return { fields: { ...rest, ...fields }, text: text === undefined ? undefined : String(text) };
  }
  if (message instanceof Error) return { fields: { ...fields, err: message }, text: message.message };
  return { fields, text: typeof message === "string" ? message : JSON.stringify(message) };
}

/** Each server's lines from graphs, tagged as theirs. */
const graphLoggers = new WeakMap<Logger, Logger>();

function graphLoggerOf(logger: Logger): Logger {
  let graphLogger = graphLoggers.get(logger);
  if (!graphLogger) {
    graphLogger = logger.child({ source: "graph" });
    graphLoggers.set(logger, graphLogger);
  }
  return graphLogger;
}

/** A logger in the SDK's shape writing to the log of the server of the calling code. */
function sdkLogger(): SdkLogger {
  const sdk = {} as SdkLogger;
  for (const [name, level] of Object.entries(LEVELS) as Array<[keyof typeof LEVELS, (typeof LEVELS)[keyof typeof LEVELS]]>) {
    sdk[name] = (message, ...meta) => {
      const { server, config } = caller();
      if (server) {
        const { fields, text } = entry(message, meta);
        graphLoggerOf(server.logger)[level]({ ...runContext(config), ...fields }, text);
      }
      return sdk;
    };
  }
  return sdk;
}

const dispatcher = sdkLogger();
const apiUrlOfCaller = () => caller().server?.apiUrl;

/** Installs the SDK's globals (before a server loads its graphs; again is harmless). */
export function installSdkGlobals(): void {
  const global = globalThis as Record<symbol, unknown>;
  global[GLOBAL_LOGGER] = dispatcher;
  Object.defineProperty(global, GLOBAL_API_URL, { configurable: true, get: apiUrlOfCaller });
}

// ---------------------------------------------------------------------------------------------
// LANGGRAPH_API_URL.

/** The running servers of this process that LANGGRAPH_API_URL may name, oldest first. */
const apiUrlCandidates: string[] = [];
/** The value this process last gave LANGGRAPH_API_URL (a user's own value is never replaced). */
let givenApiUrl: string | undefined;

/**
 * `LANGGRAPH_API_URL` points at this server, so custom routes, `RemoteGraph` and the SDK inside
 * graphs can call it (as on LangGraph Platform), unless the user set it. An environment variable
 * has one value per process: with several servers in one process it names the oldest running
 * one, and the others warn that it is not theirs (`new Client()` without `apiUrl` is: it follows
 * the server of the calling code). `release` hands it on to the next oldest server, or unsets it.
 */
export function pointApiUrlAt(url: string, logger: Logger): { release(): void } {
  const current = process.env.LANGGRAPH_API_URL;
  if (current !== undefined && current !== givenApiUrl) return { release() {} };
  apiUrlCandidates.push(url);
  if (apiUrlCandidates.length === 1) process.env.LANGGRAPH_API_URL = givenApiUrl = url;
  else {
    logger.warn(
      { LANGGRAPH_API_URL: process.env.LANGGRAPH_API_URL, own_api_url: url },
      "LANGGRAPH_API_URL names another server of this process (one environment variable serves the whole process): " +
        "this server's graphs and custom routes that read it call that server; `new Client()` without apiUrl and getLogger() are this server's",
    );
  }
  return {
    release() {
      apiUrlCandidates.splice(apiUrlCandidates.indexOf(url), 1);
      if (process.env.LANGGRAPH_API_URL !== url) return;
      const next = apiUrlCandidates[0];
      if (next === undefined) delete process.env.LANGGRAPH_API_URL;
      else process.env.LANGGRAPH_API_URL = givenApiUrl = next;
    },
  };
}
