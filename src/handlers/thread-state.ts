import type { OperationHandlers } from "../http/operations.js";
import { beforeCheckpointId, getThreadHistory, getThreadState, patchStateMetadata, updateState } from "../app/thread-state.js";
import { selectStateFields } from "../runtime/threads/state-view.js";

type ThreadStateOperations =
  | "getThreadState"
  | "updateThreadState"
  | "patchThreadState"
  | "getThreadStateAtCheckpoint"
  | "postThreadStateAtCheckpoint"
  | "getThreadHistory"
  | "searchThreadHistory";

export const threadStateHandlers: OperationHandlers<ThreadStateOperations> = {
  async getThreadState({ params, query, services, auth }) {
    const state = await getThreadState(services, auth, params.thread_id, { subgraphs: query.subgraphs });
    return { status: 200, body: selectStateFields(state, query.select) };
  },

  async getThreadStateAtCheckpoint({ params, query, services, auth }) {
    const state = await getThreadState(services, auth, params.thread_id, {
      checkpoint: { checkpoint_id: params.checkpoint_id },
      subgraphs: query.subgraphs,
    });
    return { status: 200, body: selectStateFields(state, query.select) };
  },

  async postThreadStateAtCheckpoint({ params, query, body, services, auth }) {
    const state = await getThreadState(services, auth, params.thread_id, {
      checkpoint: body.checkpoint,
      // The SDK sends `subgraphs` in the body; the query parameter is honoured too.
      subgraphs: Boolean(body.subgraphs ?? query.subgraphs),
    });
    return { status: 200, body: selectStateFields(state, body.select) };
  },

  async updateThreadState({ params, body, services, auth }) {
    const checkpoint = await updateState(services, auth, params.thread_id, {
      values: body.values,
      ...(body.as_node != null ? { asNode: body.as_node } : {}),
      ...(body.checkpoint != null ? { checkpoint: body.checkpoint } : {}),
      ...(body.checkpoint_id != null ? { checkpointId: body.checkpoint_id } : {}),
    });
    return { status: 200, body: { checkpoint } };
  },

  async patchThreadState({ params, body, services, auth }) {
    await patchStateMetadata(services, auth, params.thread_id, body.metadata ?? {});
    return { status: 204, body: undefined };
  },

  async getThreadHistory({ params, query, services, auth }) {
    const states = await getThreadHistory(services, auth, params.thread_id, { limit: query.limit, before: query.before });
    return { status: 200, body: states };
  },

  async searchThreadHistory({ params, body, services, auth }) {
    const states = await getThreadHistory(services, auth, params.thread_id, {
      ...(body.limit != null ? { limit: body.limit } : {}),
      ...(body.metadata != null ? { metadata: body.metadata } : {}),
      ...(body.checkpoint != null ? { checkpoint: body.checkpoint } : {}),
      before: beforeCheckpointId(body.before),
    });
    return { status: 200, body: states.map((state) => selectStateFields(state, body.select)) };
  },
};
