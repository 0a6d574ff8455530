import type { OperationHandlers } from "../http/operations.js";
import { pageReply } from "./pagination.js";
import {
  countAssistants,
  createAssistant,
  deleteAssistant,
  getAssistant,
  getAssistantGraph,
  getAssistantSchemas,
  getAssistantSubgraphs,
  listAssistantVersions,
  patchAssistant,
  searchAssistants,
  setLatestAssistantVersion,
} from "../app/assistants.js";

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

export const assistantHandlers: OperationHandlers<AssistantOperations> = {
  async createAssistant({ body, services, auth }) {
    return { status: 200, body: await createAssistant(services, auth, body) };
  },

  async getAssistant({ params, services, auth }) {
    return { status: 200, body: await getAssistant(services, auth, params.assistant_id) };
  },

  async patchAssistant({ params, body, services, auth }) {
    return { status: 200, body: await patchAssistant(services, auth, params.assistant_id, body) };
  },

  async deleteAssistant({ params, query, services, auth }) {
    await deleteAssistant(services, auth, params.assistant_id, Boolean(query.delete_threads));
    return { status: 204, body: undefined };
  },

  async searchAssistants({ body, services, auth }) {
    const page = await searchAssistants(services, auth, body);
    return pageReply(page, { offset: body.offset ?? undefined, select: body.select ?? undefined }, (assistant) => assistant);
  },

  async countAssistants({ body, services, auth }) {
    return { status: 200, body: await countAssistants(services, auth, body) };
  },

  async searchAssistantVersions({ params, body, services, auth }) {
    return { status: 200, body: (await listAssistantVersions(services, auth, params.assistant_id, body)).items };
  },

  async setLatestAssistantVersion({ params, body, services, auth }) {
    return { status: 200, body: await setLatestAssistantVersion(services, auth, params.assistant_id, body.version) };
  },

  async getAssistantGraph({ params, query, services, auth }) {
    return { status: 200, body: await getAssistantGraph(services, auth, params.assistant_id, query.xray) };
  },

  async getAssistantSubgraphs({ params, query, services, auth }) {
    return { status: 200, body: await getAssistantSubgraphs(services, auth, params.assistant_id, { recurse: query.recurse }) };
  },

  async getAssistantSubgraphsByNamespace({ params, query, services, auth }) {
    const options = { namespace: params.namespace, recurse: query.recurse };
    return { status: 200, body: await getAssistantSubgraphs(services, auth, params.assistant_id, options) };
  },

  async getAssistantSchemas({ params, services, auth }) {
    return { status: 200, body: await getAssistantSchemas(services, auth, params.assistant_id) };
  },
};
