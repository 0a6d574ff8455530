/**
 * Assistants as MCP tools. Every assistant whose graph this server serves is one tool, named
 * after the assistant when that name is a valid tool name no other assistant has, else by its
 * id (names are how models pick tools, so they must be unambiguous). The same naming decides
 * which assistant a `tools/call` runs, so listing and calling always agree.
 */
import type { RequestAuth } from "../../auth/index.js";
import { DomainError } from "../../errors.js";
import { allAssistants, type AssistantDeps } from "../../app/assistants.js";
import { assistantSchemas } from "../../runtime/introspection/index.js";
import type { Assistant } from "../../storage/types.js";
import { assistantDescription } from "../assistants.js";

/** The characters and length MCP allows in tool names. */
const TOOL_NAME = /^[A-Za-z0-9_.-]{1,128}$/;

export interface McpTool {
  name: string;
  title: string;
  description: string;
  inputSchema: Record<string, unknown>;
}

/** Tool name -> assistant, for the assistants the caller may search whose graphs are served (oldest first). */
function toolsByName(services: AssistantDeps, visible: Assistant[]): Map<string, Assistant> {
  const assistants = visible.filter((assistant) => services.graphs.has(assistant.graph_id));
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
async function inputSchema(services: AssistantDeps, assistant: Assistant): Promise<Record<string, unknown>> {
  try {
    const schema = (await assistantSchemas(services, assistant)).input_schema;
    if (schema && schema.type === "object") return schema;
  } catch (error) {
    // a graph that cannot be built with this assistant's config is still listed: calling it says why
    if (!(error instanceof DomainError) || error.kind === "unavailable") throw error;
  }
  return { type: "object", additionalProperties: true };
}

export async function listTools(services: AssistantDeps, auth: RequestAuth): Promise<McpTool[]> {
  const tools = toolsByName(services, await allAssistants(services, auth));
  return Promise.all(
    [...tools].map(async ([name, assistant]) => ({
      name,
      title: assistant.name,
      description: assistantDescription(services.graphs, assistant),
      inputSchema: await inputSchema(services, assistant),
    })),
  );
}

/** The assistant a tool name stands for among `visible` (`allAssistants`): a listed name, or the id of a listed assistant; null when none. */
export function findTool(services: AssistantDeps, name: string, visible: Assistant[]): Assistant | null {
  const tools = toolsByName(services, visible);
  return tools.get(name) ?? [...tools.values()].find((assistant) => assistant.assistant_id === name) ?? null;
}
