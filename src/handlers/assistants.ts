import { HttpError } from "../http/errors.js";
import type { OperationHandlers } from "../http/operations.js";
import { pageReply } from "./pagination.js";
import { nullsAsAbsent } from "../app/nulls.js";
import { assistantSchemas, assistantSubgraphs, drawAssistantGraph } from "../runtime/introspection/index.js";
import type { Services } from "../services.js";
import type { RequestAuth } from "../auth/index.js";

type AssistantOperations =
  | "createAssistant"
  | "searchAssistants"
  | "countAssistants"
  | "getAssistant"
  | "deleteAssistant"
  | "patchAssistant"
  | "getAssistantGraph"
  | "getAssistantSubgraphs"
  | "getAssistantSubgraphsByNamespace"
  | "getAssistantSchemas"
  | "searchAssistantVersions"
  | "setLatestAssistantVersion";

function requireGraph(services: Services, graphId: string) {
  if (!services.graphs.has(graphId)) {
    throw new HttpError(404, `Graph '${graphId}' not found; this server serves: ${services.graphs.graphIds.join(", ")}`);
  }
}

/** Threads record the assistant they were made for in `metadata.assistant_id`. */
async function deleteThreadsOf(services: Services, assistantId: string, auth: RequestAuth) {
  const { scope } = await auth.authorize("threads:delete", {});
  const filter = { metadata: { assistant_id: assistantId } };
  for (;;) {
    const { items } = await services.storage.threads.search({ filter, limit: 1000 }, scope);
    if (items.length === 0) return;
    for (const thread of items) await services.storage.threads.delete(thread.thread_id, scope);
  }
}

export const assistantHandlers: OperationHandlers<AssistantOperations> = {
  async createAssistant({ body, services, auth }) {
    const fields = nullsAsAbsent(body, ["description"]);
    const { value, scope } = await auth.authorize("assistants:create", { ...fields, metadata: fields.metadata ?? {} });
    requireGraph(services, value.graph_id);
    // the handler may have changed any field (typically metadata): what it leaves is what is stored
    const create = nullsAsAbsent(value as typeof fields, ["description"]);
    const assistant = await services.storage.assistants.create(create, scope);
    return { status: 200, body: assistant };
  },

  async getAssistant({ params, services, auth }) {
    const { scope } = await auth.authorize("assistants:read", { assistant_id: params.assistant_id });
    const assistant = await services.storage.assistants.get(services.graphs.assistantId(params.assistant_id), scope);
    return { status: 200, body: assistant };
  },

  async patchAssistant({ params, body, services, auth }) {
    const fields = nullsAsAbsent(body, ["description"]);
    const { value, scope } = await auth.authorize("assistants:update", { ...fields, assistant_id: params.assistant_id });
    const {
      assistant_id: _id,
      version: _version,
      ...patch
    } = nullsAsAbsent(value as typeof fields & { assistant_id: string; version?: number }, ["description"]);
    if (patch.graph_id !== undefined) requireGraph(services, patch.graph_id);
    const id = services.graphs.assistantId(params.assistant_id);
    return { status: 200, body: await services.storage.assistants.patch(id, patch, scope) };
  },

  async deleteAssistant({ params, query, services, auth }) {
    const { scope } = await auth.authorize("assistants:delete", { assistant_id: params.assistant_id });
    const id = services.graphs.assistantId(params.assistant_id);
    await services.storage.assistants.delete(id, scope);
    if (query.delete_threads) await deleteThreadsOf(services, id, auth);
    return { status: 204, body: undefined };
  },

  async searchAssistants({ body, services, auth }) {
    const fields = nullsAsAbsent(body);
    const { name, limit, offset, sort_by, sort_order, select } = fields;
    const { value, scope } = await auth.authorize("assistants:search", { metadata: fields.metadata, graph_id: fields.graph_id, limit, offset });
    const { metadata, graph_id } = { metadata: value.metadata ?? undefined, graph_id: value.graph_id ?? undefined };
    const page = await services.storage.assistants.search(
      { filter: { metadata, graph_id, name }, sortBy: sort_by, sortOrder: sort_order, limit, offset },
      scope,
    );
    return pageReply(page, { offset, select }, (assistant) => assistant);
  },

  async countAssistants({ body, services, auth }) {
    const fields = nullsAsAbsent(body);
    const { name } = fields;
    const { value, scope } = await auth.authorize("assistants:search", { metadata: fields.metadata, graph_id: fields.graph_id });
    const { metadata, graph_id } = { metadata: value.metadata ?? undefined, graph_id: value.graph_id ?? undefined };
    return { status: 200, body: await services.storage.assistants.count({ metadata, graph_id, name }, scope) };
  },

  async searchAssistantVersions({ params, body, services, auth }) {
    const { scope } = await auth.authorize("assistants:read", { assistant_id: params.assistant_id });
    const { metadata, limit, offset } = nullsAsAbsent(body);
    const page = await services.storage.assistants.listVersions(
      services.graphs.assistantId(params.assistant_id),
      { filter: { metadata }, limit, offset },
      scope,
    );
    return { status: 200, body: page.items };
  },

  async setLatestAssistantVersion({ params, body, services, auth }) {
    const { scope } = await auth.authorize("assistants:update", { assistant_id: params.assistant_id, version: body.version });
    const id = services.graphs.assistantId(params.assistant_id);
    return { status: 200, body: await services.storage.assistants.setLatest(id, body.version, scope) };
  },

  async getAssistantGraph({ params, query, services, auth }) {
    const { scope } = await auth.authorize("assistants:read", { assistant_id: params.assistant_id });
    const assistant = await services.storage.assistants.get(services.graphs.assistantId(params.assistant_id), scope);
    return { status: 200, body: await drawAssistantGraph(services, assistant, query.xray) };
  },

  async getAssistantSubgraphs({ params, query, services, auth }) {
    const { scope } = await auth.authorize("assistants:read", { assistant_id: params.assistant_id });
    const assistant = await services.storage.assistants.get(services.graphs.assistantId(params.assistant_id), scope);
    return { status: 200, body: await assistantSubgraphs(services, assistant, { recurse: query.recurse }) };
  },

  async getAssistantSubgraphsByNamespace({ params, query, services, auth }) {
    const { scope } = await auth.authorize("assistants:read", { assistant_id: params.assistant_id });
    const assistant = await services.storage.assistants.get(services.graphs.assistantId(params.assistant_id), scope);
    const options = { namespace: params.namespace, recurse: query.recurse };
    return { status: 200, body: await assistantSubgraphs(services, assistant, options) };
  },

  async getAssistantSchemas({ params, services, auth }) {
    const { scope } = await auth.authorize("assistants:read", { assistant_id: params.assistant_id });
    const assistant = await services.storage.assistants.get(services.graphs.assistantId(params.assistant_id), scope);
    return { status: 200, body: await assistantSchemas(services, assistant) };
  },
};
