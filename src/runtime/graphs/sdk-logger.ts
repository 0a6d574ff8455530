/**
 * The logger graphs get from `getLogger()` of `@langchain/langgraph-sdk/logging`: LangGraph
 * servers register it under a global symbol before loading graphs (a module may call it at its
 * top level). Its lines go to the server's structured log, with the graph, assistant, run, thread
 * and node of the code that logs.
 */
import { getConfig } from "@langchain/langgraph";
import type { Logger } from "pino";

const GLOBAL_LOGGER = Symbol.for("langgraph.api.sdk-logger");

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

/** Where the calling code runs, read from the graph's runnable config (none outside a run). */
function runContext(): Record<string, unknown> {
  let config;
  try {
    config = getConfig();
  } catch {
    return {};
  }
  const configurable = config?.configurable ?? {};
  const context: Record<string, unknown> = {};
  for (const key of ["graph_id", "assistant_id", "run_id", "thread_id"]) {
    if (configurable[key] !== undefined) context[key] = configurable[key];
  }
  const node = config?.metadata?.langgraph_node;
  if (node !== undefined) context.langgraph_node = node;
  return context;
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

export function sdkLogger(logger: Logger): SdkLogger {
  const graphLogger = logger.child({ source: "graph" });
  const sdk = {} as SdkLogger;
  for (const [name, level] of Object.entries(LEVELS) as Array<[keyof typeof LEVELS, (typeof LEVELS)[keyof typeof LEVELS]]>) {
    sdk[name] = (message, ...meta) => {
      const { fields, text } = entry(message, meta);
      graphLogger[level]({ ...runContext(), ...fields }, text);
      return sdk;
    };
  }
  return sdk;
}

/** Makes `getLogger()` answer a logger writing to `logger` (the latest server of the process). */
export function registerSdkLogger(logger: Logger): void {
  (globalThis as Record<symbol, unknown>)[GLOBAL_LOGGER] = sdkLogger(logger);
}
