/**
 * LangGraph state snapshots in the API's `ThreadState` shape (what the SDK's `ThreadState` reads),
 * and the `select` projection of it.
 */
import type { RunnableConfig } from "@langchain/core/runnables";
import type { StateSnapshot } from "@langchain/langgraph";
import type { components } from "../../../generated/openapi.js";
import { toPlainJson } from "../plain-json.js";

export type ThreadState = components["schemas"]["ThreadState"];
export type ThreadStateSelection = components["schemas"]["ThreadStateSelection"];
type ThreadTask = components["schemas"]["ThreadTask"];
type CheckpointRef = components["schemas"]["Checkpoint"];
type TaskCheckpoint = components["schemas"]["TaskCheckpoint"];
type Interrupt = components["schemas"]["Interrupt"];

type TaskDescription = StateSnapshot["tasks"][number];

const isSnapshot = (state: TaskDescription["state"]): state is StateSnapshot => state !== undefined && "values" in state && "next" in state;

/**
 * The checkpoint a config points at; a config without an id (an empty state, a subgraph task)
 * gives a null id. `checkpoint_map` only when the config has one, as the official servers answer.
 */
export function checkpointRef(config: RunnableConfig, threadId: string): CheckpointRef {
  const configurable = config.configurable ?? {};
  const map = configurable.checkpoint_map as Record<string, unknown> | null | undefined;
  return {
    thread_id: (configurable.thread_id as string | undefined) ?? threadId,
    checkpoint_ns: (configurable.checkpoint_ns as string | undefined) ?? "",
    checkpoint_id: (configurable.checkpoint_id as string | undefined) ?? null,
    ...(map != null ? { checkpoint_map: map } : {}),
  };
}

/**
 * The config of a task's subgraph as the LangGraph servers answer it: its namespace and thread,
 * with no `checkpoint_id` unless the config names one (it never does before the subgraph ran).
 */
function taskCheckpoint(config: RunnableConfig, threadId: string): TaskCheckpoint {
  const { checkpoint_id: id, checkpoint_map: map, ...ref } = checkpointRef(config, threadId);
  return { ...ref, ...(id != null ? { checkpoint_id: id } : {}), ...(map != null ? { checkpoint_map: map } : {}) };
}

function errorText(error: unknown): string {
  if (error instanceof Error) return error.message;
  return typeof error === "string" ? error : JSON.stringify(toPlainJson(error));
}

function taskView(task: TaskDescription, threadId: string): ThreadTask {
  const subgraph = task.state;
  return {
    id: task.id,
    name: task.name,
    error: task.error == null ? null : errorText(task.error),
    interrupts: toPlainJson(task.interrupts ?? []) as Interrupt[],
    // with `subgraphs`, the subgraph's state (and its checkpoint) is in `state`
    checkpoint: subgraph === undefined || isSnapshot(subgraph) ? null : taskCheckpoint(subgraph, threadId),
    state: isSnapshot(subgraph) ? threadStateView(subgraph, threadId) : null,
    path: toPlainJson(task.path ?? []) as ThreadTask["path"],
    result: task.result === undefined ? null : toPlainJson(task.result),
  };
}

export function threadStateView(snapshot: StateSnapshot, threadId: string): ThreadState {
  const tasks = snapshot.tasks.map((task) => taskView(task, threadId));
  return {
    values: toPlainJson(snapshot.values ?? {}) as ThreadState["values"],
    next: [...snapshot.next],
    tasks,
    checkpoint: checkpointRef(snapshot.config, threadId),
    metadata: snapshot.metadata === undefined ? null : (toPlainJson(snapshot.metadata) as ThreadState["metadata"]),
    created_at: snapshot.createdAt ?? null,
    parent_checkpoint: snapshot.parentConfig ? checkpointRef(snapshot.parentConfig, threadId) : null,
    interrupts: tasks.flatMap((task) => task.interrupts),
  };
}

/**
 * Only the `select`ed fields; `values.<key>` keeps one key of the values (when they are an
 * object), and selecting `values` itself keeps them whole.
 */
export function selectStateFields(state: ThreadState, select: readonly string[] | undefined): ThreadState | ThreadStateSelection {
  if (!select?.length) return state;
  const picked: Record<string, unknown> = {};
  const valueKeys: string[] = [];
  for (const field of select) {
    if (field.startsWith("values.")) valueKeys.push(field.slice("values.".length));
    else if (field in state) picked[field] = state[field as keyof ThreadState];
  }
  const values = state.values;
  if (!("values" in picked) && valueKeys.length > 0) {
    const isObject = values !== null && typeof values === "object" && !Array.isArray(values);
    picked.values = Object.fromEntries(isObject ? valueKeys.filter((key) => Object.hasOwn(values, key)).map((key) => [key, values[key]]) : []);
  }
  return picked;
}
