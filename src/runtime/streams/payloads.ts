/**
 * Stream event data in the JSON the SDK reads. LangGraph's chunks hold class instances
 * (messages, interrupts, Commands): they become plain dicts (`toPlainJson`). The task and
 * checkpoint payloads of the `tasks`, `checkpoints` and `debug` modes also carry the run's live
 * config (callback handlers, `__pregel_*` internals such as the checkpointer): only its public
 * part is sent, and a subgraph task's config becomes a checkpoint reference, as in thread states.
 */
import { toPlainJsonText } from "../plain-json.js";

type Dict = Record<string, unknown>;

/** Event data as plain JSON, with its approximate size for the broker's buffer bound. */
export interface Payload {
  data: unknown;
  size: number;
}

const isDict = (value: unknown): value is Dict => value !== null && typeof value === "object" && !Array.isArray(value);

/** Never throws: a value JSON cannot hold (a cycle) is replaced by a note, the run goes on. */
export function payload(value: unknown): Payload {
  let text: string;
  try {
    text = toPlainJsonText(value);
  } catch (error) {
    text = JSON.stringify(`[not serializable: ${(error as Error).message}]`);
  }
  return { data: JSON.parse(text), size: text.length };
}

/** A config without what only this process can use: callbacks and `__`-prefixed internals. */
function publicConfig(config: unknown): Dict | null {
  if (!isDict(config)) return null;
  const { callbacks: _callbacks, configurable, ...rest } = config;
  if (!isDict(configurable)) return rest;
  return { ...rest, configurable: Object.fromEntries(Object.entries(configurable).filter(([key]) => !key.startsWith("__"))) };
}

function checkpointRef(config: unknown): Dict | null {
  if (!isDict(config) || !isDict(config.configurable)) return null;
  const { thread_id, checkpoint_ns, checkpoint_id, checkpoint_map } = config.configurable;
  return {
    thread_id: thread_id ?? null,
    checkpoint_ns: checkpoint_ns ?? "",
    checkpoint_id: checkpoint_id ?? null,
    ...(checkpoint_map != null ? { checkpoint_map } : {}),
  };
}

function errorText(error: unknown): string | null {
  if (error == null) return null;
  if (error instanceof Error) return error.message;
  if (typeof error === "string") return error;
  const { data } = payload(error);
  return typeof data === "string" ? data : JSON.stringify(data);
}

/** A task of the `tasks` mode, or inside a checkpoint / debug payload. */
export function streamTask(task: unknown): unknown {
  if (!isDict(task)) return task;
  const { state, error, ...rest } = task;
  const shaped: Dict = { ...rest };
  if ("error" in task) shaped.error = errorText(error);
  if (state !== undefined) shaped.checkpoint = checkpointRef(state);
  return shaped;
}

/** A checkpoint of the `checkpoints` mode (LangGraph's `parentConfig` becomes `parent_config`). */
export function streamCheckpoint(checkpoint: unknown): unknown {
  if (!isDict(checkpoint)) return checkpoint;
  return {
    config: publicConfig(checkpoint.config),
    parent_config: publicConfig(checkpoint.parentConfig),
    checkpoint: checkpointRef(checkpoint.config),
    parent_checkpoint: checkpointRef(checkpoint.parentConfig),
    values: checkpoint.values,
    metadata: checkpoint.metadata,
    next: checkpoint.next,
    tasks: Array.isArray(checkpoint.tasks) ? checkpoint.tasks.map(streamTask) : [],
  };
}

/** A `tools` chunk: a failed tool's error (an Error, which JSON would empty) becomes `{error, message}`. */
export function streamToolEvent(chunk: unknown): unknown {
  if (!isDict(chunk) || !(chunk.error instanceof Error)) return chunk;
  const { name, message } = chunk.error;
  return { ...chunk, error: { error: name && name !== "Error" ? name : chunk.error.constructor.name, message } };
}

/** A `debug` chunk: `{step, type, timestamp, payload}` with a checkpoint or task payload. */
export function streamDebug(chunk: unknown): unknown {
  if (!isDict(chunk)) return chunk;
  return { ...chunk, payload: chunk.type === "checkpoint" ? streamCheckpoint(chunk.payload) : streamTask(chunk.payload) };
}
