/**
 * Thread state through the thread's graph and the server's checkpointer: read it (latest, at a
 * checkpoint, history), write it (an update as a node, a series of supersteps), and patch the
 * metadata of the latest checkpoint. Writes keep the thread record's values, interrupts and
 * status in step with the new state.
 */
import type { RunnableConfig } from "@langchain/core/runnables";
import type { StateSnapshot } from "@langchain/langgraph";
import type { components } from "../../../generated/openapi.js";
import { conflict, DomainError, invalid, notFound } from "../../errors.js";
import type { Logger } from "pino";
import { ConflictError, NotFoundError } from "../../storage/errors.js";
import type { Metadata, Scope, Thread, ThreadCreate } from "../../storage/types.js";
import { toCommand } from "../command.js";
import { toPlainJson } from "../plain-json.js";
import { threadGraph, type ThreadGraph, type ThreadGraphDeps } from "./graph.js";

/** What reading and writing a thread's state needs. */
export interface ThreadStateDeps extends ThreadGraphDeps {
  logger: Logger;
}
import { threadStateView, type ThreadState } from "./state-view.js";

type CheckpointConfig = components["schemas"]["CheckpointConfig"];
type Superstep = NonNullable<components["schemas"]["ThreadCreate"]["supersteps"]>[number];
type GraphSupersteps = Parameters<ThreadGraph["graph"]["bulkUpdateState"]>[1];
type CheckpointConfigurable = Record<string, unknown> & { thread_id: string; checkpoint_ns: string; checkpoint_id?: string };

/**
 * The `configurable` addressing a checkpoint of the thread: the client's checkpoint reference
 * (namespace, id, map, extra configurable keys) with the thread of the path. `field` names the
 * request field in error messages.
 */
function checkpointConfigurable(threadId: string, checkpoint: CheckpointConfig | undefined, field: string) {
  const { thread_id: named, ...rest } = checkpoint ?? {};
  if (named !== undefined && named !== threadId) {
    throw invalid(`${field}.thread_id: '${named}' is not the thread of the path ('${threadId}')`);
  }
  const configurable: CheckpointConfigurable = { thread_id: threadId, checkpoint_ns: "" };
  for (const [key, value] of Object.entries(rest)) {
    // LangGraph keeps its internals (read/send functions, the checkpointer) under "__" keys.
    if (key.startsWith("__")) throw invalid(`${field}.${key}: keys starting with "__" are reserved for LangGraph`);
    if (value != null) configurable[key] = value;
  }
  return configurable;
}

/** What a graph reports for a checkpoint that does not exist (the same as for an empty thread). */
const emptySnapshot = (config: RunnableConfig): StateSnapshot => ({ values: {}, next: [], config, tasks: [] });

const checkpointNotFound = (threadId: string, checkpointId: string) => notFound(`Checkpoint '${checkpointId}' not found in thread '${threadId}'`);

export interface ReadStateOptions {
  /** Which checkpoint (default: the latest of the root graph). */
  checkpoint?: CheckpointConfig;
  /** Include the states of subgraphs in `tasks[].state`. */
  subgraphs?: boolean;
}

export async function readThreadState(
  services: ThreadStateDeps,
  threadId: string,
  scope: Scope,
  options: ReadStateOptions = {},
): Promise<ThreadState> {
  const thread = await services.storage.threads.get(threadId, scope);
  const configurable = checkpointConfigurable(threadId, options.checkpoint, "body.checkpoint");
  const owner = await threadGraph(services, thread, scope);
  const snapshot = owner ? await owner.graph.getState({ configurable }, { subgraphs: options.subgraphs ?? false }) : emptySnapshot({ configurable });
  // A stored checkpoint always has a timestamp: none means the requested one does not exist.
  if (configurable.checkpoint_id !== undefined && snapshot.createdAt === undefined) {
    throw checkpointNotFound(threadId, configurable.checkpoint_id);
  }
  return threadStateView(snapshot, threadId);
}

export interface HistoryOptions {
  /** default 10 */
  limit?: number;
  /** Only checkpoints older than this checkpoint id. */
  before?: string;
  /** Only checkpoints whose metadata contains these key/value pairs. */
  metadata?: Metadata;
  /** The namespace (default root) and, optionally, the one checkpoint to list. */
  checkpoint?: CheckpointConfig;
}

/** The thread's states, newest checkpoint first (none while the thread has no graph). */
export async function threadHistory(services: ThreadStateDeps, threadId: string, scope: Scope, options: HistoryOptions = {}): Promise<ThreadState[]> {
  const thread = await services.storage.threads.get(threadId, scope);
  const configurable = checkpointConfigurable(threadId, options.checkpoint, "body.checkpoint");
  const owner = await threadGraph(services, thread, scope);
  if (!owner) return [];
  const states: ThreadState[] = [];
  const history = owner.graph.getStateHistory(
    { configurable },
    {
      limit: options.limit ?? 10,
      ...(options.before !== undefined ? { before: { configurable: { checkpoint_id: options.before } } } : {}),
      ...(options.metadata !== undefined ? { filter: options.metadata } : {}),
    },
  );
  for await (const snapshot of history) states.push(threadStateView(snapshot, threadId));
  return states;
}

/** The thread's graph, for a write: a thread without one cannot take state. */
async function graphForWrite(services: ThreadStateDeps, thread: Thread, scope: Scope): Promise<ThreadGraph> {
  const owner = await threadGraph(services, thread, scope);
  if (!owner) {
    throw conflict(`Thread '${thread.thread_id}' has no graph yet: create it with a graph id (metadata.graph_id) or run an assistant on it first`);
  }
  return owner;
}

/** Applies updates with the graph; the graph refusing them (unknown node, bad values) is the client's 422. */
async function applyUpdates(
  services: ThreadStateDeps,
  owner: ThreadGraph,
  config: RunnableConfig,
  supersteps: GraphSupersteps,
): Promise<RunnableConfig> {
  try {
    return await owner.graph.bulkUpdateState(config, supersteps);
  } catch (error) {
    if (error instanceof DomainError) throw error;
    services.logger.info({ err: error, graph_id: owner.graphId }, "state update refused by the graph");
    throw invalid(`The update does not fit graph '${owner.graphId}': ${(error as Error).message ?? String(error)}`);
  }
}

/**
 * The thread record follows its latest state: values, pending interrupts, and idle/interrupted.
 * An interrupted thread whose update leaves tasks to run stays interrupted: the update wrote a
 * new checkpoint, but the paused node still waits to run (and to ask again) on the next resume.
 */
async function syncThreadRecord(services: ThreadStateDeps, owner: ThreadGraph, thread: Thread, scope: Scope): Promise<void> {
  const snapshot = await owner.graph.getState({ configurable: { thread_id: thread.thread_id, checkpoint_ns: "" } });
  const interrupts: Thread["interrupts"] = {};
  for (const task of snapshot.tasks) {
    if (task.interrupts.length) interrupts[task.id] = toPlainJson(task.interrupts) as Thread["interrupts"][string];
  }
  const stillPaused = thread.status === "interrupted" && snapshot.next.length > 0;
  await services.storage.threads.update(
    thread.thread_id,
    {
      values: toPlainJson(snapshot.values) as Thread["values"],
      interrupts,
      status: Object.keys(interrupts).length > 0 || stillPaused ? "interrupted" : "idle",
    },
    scope,
  );
}

export interface StateUpdate {
  /** Passed as given: `null` has a meaning of its own (with `as_node: "__end__"` it clears the next tasks). */
  values?: unknown;
  asNode?: string;
  /** The checkpoint to write after (default: the latest). */
  checkpoint?: CheckpointConfig;
  /** Shortcut for `checkpoint.checkpoint_id`. */
  checkpointId?: string;
}

/** Writes a checkpoint as if `asNode` had produced `values`; answers the new checkpoint. */
export async function updateThreadState(services: ThreadStateDeps, threadId: string, scope: Scope, update: StateUpdate): Promise<CheckpointConfig> {
  const thread = await services.storage.threads.get(threadId, scope);
  if (thread.status === "busy") {
    throw conflict(`Thread '${threadId}' has an active run: update its state once the run is done`);
  }
  const owner = await graphForWrite(services, thread, scope);
  const configurable = checkpointConfigurable(threadId, update.checkpoint, "body.checkpoint");
  if (update.checkpointId !== undefined) {
    if (configurable.checkpoint_id !== undefined && configurable.checkpoint_id !== update.checkpointId) {
      throw invalid("body.checkpoint_id: differs from body.checkpoint.checkpoint_id; give one of them");
    }
    configurable.checkpoint_id = update.checkpointId;
  }
  // Forking from a checkpoint that does not exist would start a history with a dangling parent.
  if (configurable.checkpoint_id !== undefined && !(await services.checkpointer.getTuple({ configurable }))) {
    throw checkpointNotFound(threadId, configurable.checkpoint_id);
  }
  const written = await applyUpdates(services, owner, { configurable }, [
    { updates: [{ values: update.values, ...(update.asNode !== undefined ? { asNode: update.asNode } : {}) }] },
  ]);
  await syncThreadRecord(services, owner, thread, scope);
  const { thread_id, checkpoint_ns, checkpoint_id, checkpoint_map } = written.configurable ?? {};
  return { thread_id, checkpoint_ns: checkpoint_ns ?? "", checkpoint_id, ...(checkpoint_map != null ? { checkpoint_map } : {}) };
}

/** Applies supersteps (one checkpoint each); a `command` takes the place of `values` in an update. */
async function applySupersteps(services: ThreadStateDeps, thread: Thread, scope: Scope, supersteps: Superstep[]): Promise<void> {
  const owner = await threadGraph(services, thread, scope);
  if (!owner) {
    throw invalid("body.supersteps: need a graph to apply them; give its id in metadata.graph_id");
  }
  const steps: GraphSupersteps = supersteps.map((step) => ({
    updates: step.updates.map((u) => ({ values: u.command != null ? toCommand(u.command) : u.values, asNode: u.as_node })),
  }));
  await applyUpdates(services, owner, { configurable: { thread_id: thread.thread_id, checkpoint_ns: "" } }, steps);
  await syncThreadRecord(services, owner, thread, scope);
}

/**
 * Creates a thread whose history is built from supersteps, with the graph its metadata names.
 * All or nothing: a thread whose supersteps fail is deleted again. With `if_exists: "do_nothing"`
 * an existing thread is returned untouched (its history is not rebuilt).
 */
export async function createThreadWithSupersteps(
  services: ThreadStateDeps,
  create: ThreadCreate,
  supersteps: Superstep[],
  scope: Scope,
): Promise<Thread> {
  const existing = () => services.storage.threads.get(create.thread_id!, scope);
  if (create.thread_id !== undefined && create.if_exists === "do_nothing") {
    try {
      return await existing();
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
    }
  }
  let thread: Thread;
  try {
    // "raise" even for do_nothing: a thread created meanwhile by someone else must not get our history.
    thread = await services.storage.threads.create({ ...create, if_exists: "raise" }, scope);
  } catch (error) {
    if (error instanceof ConflictError && create.if_exists === "do_nothing") return existing();
    throw error;
  }
  try {
    await applySupersteps(services, thread, scope, supersteps);
  } catch (error) {
    await services.storage.threads.delete(thread.thread_id, scope);
    throw error;
  }
  return services.storage.threads.get(thread.thread_id, scope);
}

/** Merges metadata into the latest checkpoint of the thread's root graph (no new checkpoint). */
export async function patchLatestCheckpointMetadata(services: ThreadStateDeps, threadId: string, scope: Scope, metadata: Metadata): Promise<void> {
  await services.storage.threads.get(threadId, scope);
  const latest = await services.storage.checkpoints.get({ thread_id: threadId, checkpoint_ns: "" });
  if (!latest) throw notFound(`Thread '${threadId}' has no checkpoint yet`);
  await services.storage.checkpoints.patchMetadata(latest, metadata);
}
