/**
 * Assistants as MCP tools. Every assistant whose graph this server serves is one tool, named
 * after the assistant when that name is a valid tool name no other assistant has, else by its
 * id (names are how models pick tools, so they must be unambiguous). The same naming decides
 * which assistant a `tools/call` runs, so listing and calling always agree.
 */
import { DomainError } from "../../errors.js";
import { assistantSchemas } from "../../runtime/introspection/index.js";
import type { Services } from "../../services.js";
import { NotFoundError } from "../../storage/errors.js";
import type { Assistant, Scope } from "../../storage/types.js";
import { assistantDescription } from "../assistants.js";

/** The characters and length MCP allows in tool names. */
const TOOL_NAME = /^[A-Za-z0-9_.-]{1,128}$/;
const PAGE = 100;

export interface McpTool {
  name: string;
  title: string;
  description: string;
  inputSchema: Record<string, unknown>;
}

/** Every visible assistant of a served graph, oldest first. */
async function servedAssistants(services: Services, scope: Scope): Promise<Assistant[]> {
  const all: Assistant[] = [];
  for (let offset = 0; ; offset += PAGE) {
    const page = await services.storage.assistants.search({ sortBy: "created_at", sortOrder: "asc", limit: PAGE, offset }, scope);
    all.push(...page.items);
    if (page.items.length < PAGE) break;
  }
  return all.filter((assistant) => services.graphs.has(assistant.graph_id));
}

/** Tool name -> assistant. */
async function toolsByName(services: Services, scope: Scope): Promise<Map<string, Assistant>> {
  const assistants = await servedAssistants(services, scope);
  const counts = new Map<string, number>();
  for (const { name } of assistants) counts.set(name, (counts.get(name) ?? 0) + 1);
  const tools = new Map<string, Assistant>();
  for (const assistant of assistants) {
    const unique = TOOL_NAME.test(assistant.name) && counts.get(assistant.name) === 1;
    tools.set(unique ? assistant.name : assistant.assistant_id, assistant);
  }
  return tools;
}

/** The graph's input schema when it is an object schema (what MCP requires), else any object. */
async function inputSchema(services: Services, assistant: Assistant): Promise<Record<string, unknown>> {
  try {
    const schema = (await assistantSchemas(services, assistant)).input_schema;
    if (schema && schema.type === "object") return schema;
  } catch (error) {
    // a graph that cannot be built with this assistant's config is still listed: calling it says why
    if (!(error instanceof DomainError) || error.kind === "unavailable") throw error;
  }
  return { type: "object", additionalProperties: true };
}

export async function listTools(services: Services, scope: Scope): Promise<McpTool[]> {
  const tools = await toolsByName(services, scope);
  return Promise.all(
    [...tools].map(async ([name, assistant]) => ({
      name,
      title: assistant.name,
      description: assistantDescription(services, assistant),
      inputSchema: await inputSchema(services, assistant),
    })),
  );
}

/** The assistant a tool name stands for: a listed name, or any assistant id; null when none. */
export async function findTool(services: Services, name: string, scope: Scope): Promise<Assistant | null> {
  const listed = (await toolsByName(services, scope)).get(name);
  if (listed) return listed;
  try {
    const assistant = await services.storage.assistants.get(name, scope);
    return services.graphs.has(assistant.graph_id) ? assistant : null;
  } catch (error) {
    if (error instanceof NotFoundError) return null;
    throw error;
  }
}
