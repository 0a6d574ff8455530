/**
 * Assistants as every caller creates, reads, searches, changes and deletes them, and what is
 * drawn from their graphs (the graph, its subgraphs, its schemas). An assistant id may also be a
 * graph id: its default assistant.
 */
import type { components } from "../../generated/openapi.js";
import type { RequestAuth } from "../auth/index.js";
import { runnableAssistantScope } from "../auth/run-access.js";
import { notFound } from "../errors.js";
import { servedAssistant, type AssistantLookupDeps } from "../runtime/assistants.js";
import { assistantSchemas, assistantSubgraphs, drawAssistantGraph, type IntrospectionDeps } from "../runtime/introspection/index.js";
import type { Assistant, AssistantVersion, Page } from "../storage/types.js";
import { nullsAsAbsent } from "./nulls.js";

type Schemas = components["schemas"];

/** What assistant operations use: storage and the graphs (a logger for introspection). */
export type AssistantDeps = AssistantLookupDeps & IntrospectionDeps;

function requireGraph(deps: AssistantDeps, graphId: string) {
  if (!deps.graphs.has(graphId)) {
    throw notFound(`Graph '${graphId}' not found; this server serves: ${deps.graphs.graphIds.join(", ")}`);
  }
}

/** Threads record the assistant they were made for in `metadata.assistant_id`. */
async function deleteThreadsOf(deps: AssistantDeps, auth: RequestAuth, assistantId: string) {
  const { scope } = await auth.authorize("threads:delete", {});
  const filter = { metadata: { assistant_id: assistantId } };
  for (;;) {
    const { items } = await deps.storage.threads.search({ filter, limit: 1000 }, scope);
    if (items.length === 0) return;
    for (const thread of items) await deps.storage.threads.delete(thread.thread_id, scope);
  }
}

export async function createAssistant(deps: AssistantDeps, auth: RequestAuth, body: Schemas["AssistantCreate"]): Promise<Assistant> {
  const fields = nullsAsAbsent(body, ["description"]);
  const { value, scope } = await auth.authorize("assistants:create", { ...fields, metadata: fields.metadata ?? {} });
  requireGraph(deps, value.graph_id);
  // the handler may have changed any field (typically metadata): what it leaves is what is stored
  return deps.storage.assistants.create(nullsAsAbsent(value as typeof fields, ["description"]), scope);
}

export async function getAssistant(deps: AssistantDeps, auth: RequestAuth, assistantId: string): Promise<Assistant> {
  const { scope } = await auth.authorize("assistants:read", { assistant_id: assistantId });
  return deps.storage.assistants.get(deps.graphs.assistantId(assistantId), scope);
}

/**
 * The assistant a run (or an agent card) of the caller's would run: a graph's default assistant
 * for anyone who may create runs, another assistant under `assistants:read`; 404 when its graph
 * is not served.
 */
export async function runnableAssistant(deps: AssistantDeps, auth: RequestAuth, assistantId: string): Promise<Assistant> {
  return servedAssistant(deps, assistantId, await runnableAssistantScope(auth, deps.graphs, assistantId));
}

/** Changes an assistant: a new version, which becomes the latest. */
export async function patchAssistant(
  deps: AssistantDeps,
  auth: RequestAuth,
  assistantId: string,
  body: Schemas["AssistantPatch"],
): Promise<Assistant> {
  const fields = nullsAsAbsent(body, ["description"]);
  const { value, scope } = await auth.authorize("assistants:update", { ...fields, assistant_id: assistantId });
  const {
    assistant_id: _id,
    version: _version,
    ...patch
  } = nullsAsAbsent(value as typeof fields & { assistant_id: string; version?: number }, ["description"]);
  if (patch.graph_id !== undefined) requireGraph(deps, patch.graph_id);
  return deps.storage.assistants.patch(deps.graphs.assistantId(assistantId), patch, scope);
}

/** Deletes an assistant and, with `deleteThreads`, the threads made for it. */
export async function deleteAssistant(deps: AssistantDeps, auth: RequestAuth, assistantId: string, deleteThreads: boolean): Promise<void> {
  const { scope } = await auth.authorize("assistants:delete", { assistant_id: assistantId });
  const id = deps.graphs.assistantId(assistantId);
  await deps.storage.assistants.delete(id, scope);
  if (deleteThreads) await deleteThreadsOf(deps, auth, id);
}

export async function searchAssistants(deps: AssistantDeps, auth: RequestAuth, body: Schemas["AssistantSearchRequest"]): Promise<Page<Assistant>> {
  const fields = nullsAsAbsent(body);
  const { name, limit, offset, sort_by, sort_order } = fields;
  const { value, scope } = await auth.authorize("assistants:search", { metadata: fields.metadata, graph_id: fields.graph_id, limit, offset });
  const filter = { metadata: value.metadata ?? undefined, graph_id: value.graph_id ?? undefined, name };
  return deps.storage.assistants.search({ filter, sortBy: sort_by, sortOrder: sort_order, limit, offset }, scope);
}

export async function countAssistants(deps: AssistantDeps, auth: RequestAuth, body: Schemas["AssistantCountRequest"]): Promise<number> {
  const fields = nullsAsAbsent(body);
  const { value, scope } = await auth.authorize("assistants:search", { metadata: fields.metadata, graph_id: fields.graph_id });
  return deps.storage.assistants.count({ metadata: value.metadata ?? undefined, graph_id: value.graph_id ?? undefined, name: fields.name }, scope);
}

const PAGE = 100;

/** Every assistant the caller may search (`assistants:search`), oldest first. */
export async function allAssistants(deps: AssistantDeps, auth: RequestAuth): Promise<Assistant[]> {
  const { scope } = await auth.authorize("assistants:search", {});
  const all: Assistant[] = [];
  for (let offset = 0; ; offset += PAGE) {
    const page = await deps.storage.assistants.search({ sortBy: "created_at", sortOrder: "asc", limit: PAGE, offset }, scope);
    all.push(...page.items);
    if (page.items.length < PAGE) return all;
  }
}

export async function listAssistantVersions(
  deps: AssistantDeps,
  auth: RequestAuth,
  assistantId: string,
  body: Schemas["AssistantVersionsSearchRequest"],
): Promise<Page<AssistantVersion>> {
  const { scope } = await auth.authorize("assistants:read", { assistant_id: assistantId });
  const { metadata, limit, offset } = nullsAsAbsent(body);
  return deps.storage.assistants.listVersions(deps.graphs.assistantId(assistantId), { filter: { metadata }, limit, offset }, scope);
}

export async function setLatestAssistantVersion(deps: AssistantDeps, auth: RequestAuth, assistantId: string, version: number): Promise<Assistant> {
  const { scope } = await auth.authorize("assistants:update", { assistant_id: assistantId, version });
  return deps.storage.assistants.setLatest(deps.graphs.assistantId(assistantId), version, scope);
}

/** The assistant's graph drawn as nodes and edges; `xray` expands subgraphs. */
export async function getAssistantGraph(deps: AssistantDeps, auth: RequestAuth, assistantId: string, xray?: boolean | number) {
  return drawAssistantGraph(deps, await getAssistant(deps, auth, assistantId), xray);
}

/** The schemas of the assistant's subgraphs (under `namespace` when given). */
export async function getAssistantSubgraphs(
  deps: AssistantDeps,
  auth: RequestAuth,
  assistantId: string,
  options: { namespace?: string; recurse?: boolean },
) {
  return assistantSubgraphs(deps, await getAssistant(deps, auth, assistantId), options);
}

/** The assistant's input, output, state, config and context schemas. */
export async function getAssistantSchemas(deps: AssistantDeps, auth: RequestAuth, assistantId: string) {
  return assistantSchemas(deps, await getAssistant(deps, auth, assistantId));
}
