import type { components } from "../../generated/openapi.js";
import { HttpError } from "../http/errors.js";
import type { OperationHandlers } from "../http/operations.js";
import { patchLatestCheckpointMetadata, readThreadState, threadHistory, updateThreadState } from "../runtime/threads/state.js";
import { selectStateFields } from "../runtime/threads/state-view.js";

type ThreadStateOperations =
  | "getThreadState"
  | "updateThreadState"
  | "patchThreadState"
  | "getThreadStateAtCheckpoint"
  | "postThreadStateAtCheckpoint"
  | "getThreadHistory"
  | "searchThreadHistory";

type HistoryBefore = NonNullable<components["schemas"]["ThreadStateSearch"]["before"]>;

/**
 * `before` is a checkpoint id (the Python SDK's `before="<id>"`), a checkpoint reference or, as
 * the JavaScript SDK sends it, a config holding one in `configurable`.
 */
function beforeCheckpointId(before: HistoryBefore | null | undefined): string | undefined {
  if (before == null) return undefined;
  if (typeof before === "string") return before;
  const configurable = (before as components["schemas"]["Config"]).configurable;
  const id = configurable !== undefined ? configurable.checkpoint_id : before.checkpoint_id;
  if (typeof id !== "string" || id === "") {
    throw new HttpError(422, "body.before: needs a checkpoint_id (in it, or in its configurable)");
  }
  return id;
}

export const threadStateHandlers: OperationHandlers<ThreadStateOperations> = {
  async getThreadState({ params, query, services, auth }) {
    const { scope } = await auth.authorize("threads:read", { thread_id: params.thread_id });
    const state = await readThreadState(services, params.thread_id, scope, { subgraphs: query.subgraphs });
    return { status: 200, body: selectStateFields(state, query.select) };
  },

  async getThreadStateAtCheckpoint({ params, query, services, auth }) {
    const { scope } = await auth.authorize("threads:read", { thread_id: params.thread_id });
    const state = await readThreadState(services, params.thread_id, scope, {
      checkpoint: { checkpoint_id: params.checkpoint_id },
      subgraphs: query.subgraphs,
    });
    return { status: 200, body: selectStateFields(state, query.select) };
  },

  async postThreadStateAtCheckpoint({ params, query, body, services, auth }) {
    const { scope } = await auth.authorize("threads:read", { thread_id: params.thread_id });
    const state = await readThreadState(services, params.thread_id, scope, {
      checkpoint: body.checkpoint,
      // The SDK sends `subgraphs` in the body; the query parameter is honoured too.
      subgraphs: Boolean(body.subgraphs ?? query.subgraphs),
    });
    return { status: 200, body: selectStateFields(state, body.select) };
  },

  async updateThreadState({ params, body, services, auth }) {
    const { scope } = await auth.authorize("threads:update", { thread_id: params.thread_id });
    const checkpoint = await updateThreadState(services, params.thread_id, scope, {
      values: body.values,
      ...(body.as_node != null ? { asNode: body.as_node } : {}),
      ...(body.checkpoint != null ? { checkpoint: body.checkpoint } : {}),
      ...(body.checkpoint_id != null ? { checkpointId: body.checkpoint_id } : {}),
    });
    return { status: 200, body: { checkpoint } };
  },

  async patchThreadState({ params, body, services, auth }) {
    const { scope } = await auth.authorize("threads:update", { thread_id: params.thread_id });
    await patchLatestCheckpointMetadata(services, params.thread_id, scope, body.metadata ?? {});
    return { status: 204, body: undefined };
  },

  async getThreadHistory({ params, query, services, auth }) {
    const { scope } = await auth.authorize("threads:read", { thread_id: params.thread_id });
    const states = await threadHistory(services, params.thread_id, scope, { limit: query.limit, before: query.before });
    return { status: 200, body: states };
  },

  async searchThreadHistory({ params, body, services, auth }) {
    const { scope } = await auth.authorize("threads:read", { thread_id: params.thread_id });
    const states = await threadHistory(services, params.thread_id, scope, {
      ...(body.limit != null ? { limit: body.limit } : {}),
      ...(body.metadata != null ? { metadata: body.metadata } : {}),
      ...(body.checkpoint != null ? { checkpoint: body.checkpoint } : {}),
      before: beforeCheckpointId(body.before),
    });
    return { status: 200, body: states.map((state) => selectStateFields(state, body.select)) };
  },
};
