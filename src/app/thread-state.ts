/**
 * A thread's state as every caller reads and writes it: the latest state or one at a
 * checkpoint, the history, an update (as a node; from a checkpoint, a fork), and the metadata of
 * the latest checkpoint. Reads need `threads:read`, writes `threads:update`.
 */
import type { components } from "../../generated/openapi.js";
import type { RequestAuth } from "../auth/index.js";
import { invalid } from "../errors.js";
import {
  patchLatestCheckpointMetadata,
  readThreadState,
  threadHistory,
  updateThreadState,
  type HistoryOptions,
  type ReadStateOptions,
  type StateUpdate,
  type ThreadStateDeps,
} from "../runtime/threads/state.js";
import type { ThreadState } from "../runtime/threads/state-view.js";
import type { Metadata } from "../storage/types.js";

type Schemas = components["schemas"];
type CheckpointConfig = Schemas["CheckpointConfig"];
type HistoryBefore = NonNullable<Schemas["ThreadStateSearch"]["before"]>;

/** The thread's state: the latest, or at `options.checkpoint`. */
export async function getThreadState(
  deps: ThreadStateDeps,
  auth: RequestAuth,
  threadId: string,
  options: ReadStateOptions = {},
): Promise<ThreadState> {
  const { scope } = await auth.authorize("threads:read", { thread_id: threadId });
  return readThreadState(deps, threadId, scope, options);
}

/**
 * Writes values into the thread's state as `asNode` would have; from `checkpoint` (or
 * `checkpointId`), the new checkpoint forks the history there. Answers the new checkpoint.
 */
export async function updateState(deps: ThreadStateDeps, auth: RequestAuth, threadId: string, update: StateUpdate): Promise<CheckpointConfig> {
  const { scope } = await auth.authorize("threads:update", { thread_id: threadId });
  return updateThreadState(deps, threadId, scope, update);
}

/** Merges metadata into the latest checkpoint (no new checkpoint). */
export async function patchStateMetadata(deps: ThreadStateDeps, auth: RequestAuth, threadId: string, metadata: Metadata): Promise<void> {
  const { scope } = await auth.authorize("threads:update", { thread_id: threadId });
  await patchLatestCheckpointMetadata(deps, threadId, scope, metadata);
}

/** The thread's states, newest checkpoint first. */
export async function getThreadHistory(deps: ThreadStateDeps, auth: RequestAuth, threadId: string, options: HistoryOptions): Promise<ThreadState[]> {
  const { scope } = await auth.authorize("threads:read", { thread_id: threadId });
  return threadHistory(deps, threadId, scope, options);
}

/**
 * A history search's `before`: a checkpoint id (the Python SDK's `before="<id>"`), a checkpoint
 * reference or, as the JavaScript SDK sends it, a config holding one in `configurable`.
 */
export function beforeCheckpointId(before: HistoryBefore | null | undefined): string | undefined {
  if (before == null) return undefined;
  if (typeof before === "string") return before;
  const configurable = (before as Schemas["Config"]).configurable;
  const id = configurable !== undefined ? configurable.checkpoint_id : before.checkpoint_id;
  if (typeof id !== "string" || id === "") throw invalid("body.before: needs a checkpoint_id (in it, or in its configurable)");
  return id;
}
