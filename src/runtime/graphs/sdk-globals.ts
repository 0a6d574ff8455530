/**
 * The process globals through which LangGraph's SDK reaches the server it runs in, as LangGraph
 * servers set them before loading graphs (a module may call `getLogger()` at its top level):
 *
 * - the logger `getLogger()` of `@langchain/langgraph-sdk/logging` answers. Its lines go to the
 *   structured log of the server whose code logs, with the graph, assistant, run, thread and node;
 * - the URL `new Client()` (and `RemoteGraph`) of `@langchain/langgraph-sdk` uses when given no
 *   `apiUrl`: the API of the server whose code asks.
 *
 * Both are installed once per process and answer per server (server-scope.ts).
 */
import { getConfig } from "@langchain/langgraph";
import type { Logger } from "pino";
import { callerScope, type ServerScope } from "./server-scope.js";

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
