/**
 * The MCP methods this server answers. It offers tools only (no resources, prompts, logging or
 * sampling), and keeps nothing between requests, so every method is answered from the request
 * alone.
 */
import type { RequestAuth } from "../../auth/index.js";
import { invalidParams, JsonRpcError, namedParams, RPC } from "../../http/jsonrpc.js";
import type { AssistantDeps } from "../../app/assistants.js";
import type { RunDeps } from "../../app/runs.js";
import { allAssistants } from "../../app/assistants.js";
import { callTool, type CallToolResult } from "./call.js";
import { findTool, listTools } from "./tools.js";

/** Newest first: `initialize` falls back to the first when the client's version is not here. */
export const MCP_PROTOCOL_VERSIONS = ["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"] as const;

/** What the MCP methods use: the assistants (tools), runs (calls), the server's version. */
export type McpDeps = AssistantDeps & RunDeps & { version: string };

export interface McpContext {
  services: McpDeps;
  /** The caller: tools are the assistants it may search, calls are runs it creates. */
  auth: RequestAuth;
  /** Fires when the client disconnects. */
  signal: AbortSignal;
}

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === "object" && !Array.isArray(value);

function initialize(params: Record<string, unknown>, { services }: McpContext) {
  const requested = params.protocolVersion;
  if (typeof requested !== "string") throw invalidParams("params.protocolVersion: a protocol version string is required");
  const known = (MCP_PROTOCOL_VERSIONS as readonly string[]).includes(requested);
  return {
    protocolVersion: known ? requested : MCP_PROTOCOL_VERSIONS[0],
    // the assistants can change at any time, but without a session there is nobody to notify
    capabilities: { tools: { listChanged: false } },
    serverInfo: { name: "langgraph-ts-server", version: services.version },
    instructions: "Each tool runs one LangGraph assistant of this server with the arguments as its input and returns its final state as JSON.",
  };
}

async function toolsCall(params: Record<string, unknown>, { services, auth, signal }: McpContext): Promise<CallToolResult> {
  const visible = await allAssistants(services, auth);
  const { name, arguments: args } = params;
  if (typeof name !== "string") throw invalidParams("params.name: the tool name (a string) is required");
  if (args !== undefined && !isObject(args)) throw invalidParams("params.arguments: must be an object");
  const assistant = findTool(services, name, visible);
  if (!assistant) throw invalidParams(`Unknown tool: '${name}' (tools/list names the tools)`);
  return callTool(services, assistant, args ?? {}, auth, signal);
}

/** The result of one request. */
export async function answerMcpRequest(method: string, rawParams: unknown, context: McpContext): Promise<object> {
  const params = namedParams(rawParams);
  switch (method) {
    case "initialize":
      return initialize(params, context);
    case "ping":
      return {};
    case "tools/list":
      // every tool fits in one page, so a client never receives a cursor to send back
      if (params.cursor !== undefined) throw invalidParams("params.cursor: this server lists every tool in one page; there is no next page");
      return { tools: await listTools(context.services, context.auth) };
    case "tools/call":
      return toolsCall(params, context);
    default:
      throw new JsonRpcError(RPC.methodNotFound, `Method not found: '${method}' (this server offers initialize, ping, tools/list and tools/call)`);
  }
}
