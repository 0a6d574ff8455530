/**
 * What a run hands to LangGraph: the merged config (assistant, then run), the input or Command,
 * and the stream options. Pure: no I/O.
 *
 * Merge rules: `configurable`, `metadata` and `context` merge key by key (the run wins); `tags`
 * concatenate; other config keys are taken from the run, else the assistant. `configurable`
 * always carries thread_id, run_id, assistant_id and graph_id; `metadata` carries the same ids,
 * the run's metadata and the attempt (so checkpoints written by the run can be traced to it).
 */
import { configurableRunningAs } from "./run-as.js";
import type { LangGraphRunnableConfig, StreamMode as GraphStreamMode } from "@langchain/langgraph";
import type { Assistant, Config, Run } from "../../storage/types.js";
import { toCommand } from "../command.js";
import type { RunKwargs } from "./request.js";
import { PROTOCOL_GRAPH_MODES } from "../streams/protocol-events.js";

export interface GraphCall {
  graphId: string;
  config: LangGraphRunnableConfig;
  input: unknown;
  /** Stream modes asked of graph.stream. */
  streamModes: GraphStreamMode[];
  /** The run asked for LangChain callback events (stream mode `events`). */
  callbackEvents: boolean;
  /** A run of the thread-centric protocol: the graph streams in LangGraph's protocol mode (`version: "v3"`). */
  protocol: boolean;
  options: {
    subgraphs: boolean;
    interruptBefore?: "*" | string[];
    interruptAfter?: "*" | string[];
    durability: RunKwargs["durability"];
    context?: Record<string, unknown>;
  };
}

/** API config keys in snake_case, and the RunnableConfig name LangChain reads. */
const RENAMED: Record<string, string> = {
  recursion_limit: "recursionLimit",
  max_concurrency: "maxConcurrency",
  run_name: "runName",
};

function runnableConfig(config: Config): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config)) {
    if (value === undefined || key === "configurable" || key === "tags" || key === "metadata") continue;
    out[RENAMED[key] ?? key] = value;
  }
  return out;
}

const asRecord = (value: unknown): Record<string, unknown> =>
  value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {};

/**
 * The graph stream modes needed for the requested API stream modes. `checkpoints` is always
 * among them: it marks where each checkpoint falls in the run's events, so a client holding a
 * checkpoint can rejoin the stream right after it (see RunEvent.checkpointId).
 */
export function graphStreamModes(requested: readonly string[]): GraphStreamMode[] {
  const modes = new Set<GraphStreamMode>();
  for (const mode of requested) {
    if (mode === "messages-tuple") modes.add("messages");
    // the legacy `messages` events (partial/complete) are made from message chunks and the values
    else if (mode === "messages") modes.add("messages").add("values");
    else if (mode !== "events") modes.add(mode as GraphStreamMode);
  }
  modes.add("checkpoints");
  return [...modes];
}

export interface GraphCallOptions {
  /** Executions started so far, this one included. */
  attempt: number;
  /** Continue from the thread's last checkpoint instead of feeding the input again (crash retry). */
  resume: boolean;
}

/**
 * An assistant's config with a caller's on top (the merge rules above), `configurable` and
 * `metadata` carrying `ids` (they win); `metadata` also gets `extraMetadata`.
 */
export function mergeConfig(
  base: Config,
  own: Config,
  ids: Record<string, string>,
  extraMetadata: Record<string, unknown> = {},
): LangGraphRunnableConfig {
  const tags = [...new Set([...(base.tags ?? []), ...(own.tags ?? [])])];
  return {
    ...runnableConfig(base),
    ...runnableConfig(own),
    ...(tags.length ? { tags } : {}),
    // the user a run acts as comes from the run (set by the server), never from an assistant's config
    configurable: { ...configurableRunningAs(asRecord(base.configurable), null), ...asRecord(own.configurable), ...ids },
    metadata: { ...asRecord(base.metadata), ...asRecord(own.metadata), ...extraMetadata, ...ids },
  };
}

export function buildGraphCall(assistant: Assistant, run: Run, options: GraphCallOptions): GraphCall {
  const kwargs = run.kwargs;
  const base: Config = assistant.config ?? {};
  const own: Config = kwargs.config ?? {};
  const ids = {
    thread_id: run.thread_id,
    run_id: run.run_id,
    assistant_id: assistant.assistant_id,
    graph_id: assistant.graph_id,
  };
  const config = mergeConfig(base, own, ids, { ...run.metadata, run_attempt: options.attempt });
  if (options.resume) {
    // a retry continues from the run's own latest checkpoint, not from the one it forked
    delete config.configurable!.checkpoint_id;
    delete config.configurable!.checkpoint_map;
  }
  const context = { ...asRecord(assistant.context), ...asRecord(kwargs.context) };
  const input = options.resume ? null : kwargs.command ? toCommand(kwargs.command) : (kwargs.input ?? null);
  return {
    graphId: assistant.graph_id,
    config,
    input,
    streamModes: kwargs.protocol ? PROTOCOL_GRAPH_MODES : graphStreamModes(kwargs.stream_mode),
    callbackEvents: !kwargs.protocol && kwargs.stream_mode.includes("events"),
    protocol: kwargs.protocol === true,
    options: {
      subgraphs: kwargs.protocol === true || kwargs.subgraphs,
      ...(kwargs.interrupt_before != null ? { interruptBefore: kwargs.interrupt_before } : {}),
      ...(kwargs.interrupt_after != null ? { interruptAfter: kwargs.interrupt_after } : {}),
      durability: kwargs.durability,
      ...(Object.keys(context).length ? { context } : {}),
    },
  };
}
