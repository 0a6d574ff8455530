/**
 * The MCP streamable-HTTP transport, stateless: each POST carries one JSON-RPC message or a batch,
 * its requests are answered in the response (JSON, or SSE for clients that accept only SSE), and
 * there is neither a session nor a server-initiated stream.
 */
import type { components } from "../../generated/openapi.js";
import { disconnectSignal } from "../http/disconnect.js";
import { classify, failure, JsonRpcError, RPC, success, toJsonRpcError, type JsonRpcFailure, type JsonRpcSuccess } from "../http/jsonrpc.js";
import { STREAMED, type HandlerContext, type OperationHandlers } from "../http/operations.js";
import { openSse } from "../http/sse.js";
import { answerMcpRequest, MCP_PROTOCOL_VERSIONS, type McpContext } from "../protocols/mcp/methods.js";

type McpResponse = components["schemas"]["McpJsonRpcResponse"];
type Answer = JsonRpcSuccess<object> | JsonRpcFailure;

/** The answer to one message of the body: a response for a request or an invalid message, else none. */
async function answer(message: unknown, context: McpContext): Promise<Answer | null> {
  const incoming = classify(message);
  switch (incoming.kind) {
    case "invalid":
      return failure(incoming.id, incoming.error);
    // notifications (initialized, cancelled, progress...) and responses change nothing here:
    // there is no session to initialize, and a call cannot be told apart from another client's
    case "notification":
    case "response":
      return null;
    case "request":
      try {
        return success(incoming.id, await answerMcpRequest(incoming.method, incoming.params, context));
      } catch (error) {
        return failure(incoming.id, toJsonRpcError(error, context.services.logger));
      }
  }
}

const badRequest = (error: JsonRpcError) => ({ status: 400 as const, body: failure(null, error) as McpResponse });

async function postMcp({ body, headers, req, res, services, auth }: HandlerContext<"postMcp">) {
  const version = headers["mcp-protocol-version"];
  if (version !== undefined && !(MCP_PROTOCOL_VERSIONS as readonly string[]).includes(String(version))) {
    return badRequest(
      new JsonRpcError(RPC.invalidRequest, `Unsupported MCP-Protocol-Version '${version}' (supported: ${MCP_PROTOCOL_VERSIONS.join(", ")})`),
    );
  }
  // express parses only JSON bodies: anything else arrives as no body at all
  if (req.body === undefined)
    return badRequest(new JsonRpcError(RPC.parseError, "Parse error: the body must be JSON (Content-Type: application/json)"));
  const batch = Array.isArray(body);
  const messages: unknown[] = batch ? body : [body];
  if (messages.length === 0) return badRequest(new JsonRpcError(RPC.invalidRequest, "Invalid Request: an empty batch"));

  const context: McpContext = { services, auth, signal: disconnectSignal(req, res) };
  const answers = await Promise.all(messages.map((message) => answer(message, context)));
  const responses = answers.filter((a): a is Answer => a !== null) as McpResponse[];
  if (responses.length === 0) return { status: 202 as const, body: undefined };
  if (!batch && classify(body).kind === "invalid") return { status: 400 as const, body: responses[0] };

  if (req.accepts(["application/json", "text/event-stream"]) === "text/event-stream") {
    const stream = openSse(req, res);
    for (const [index, response] of responses.entries()) await stream.send({ id: String(index + 1), event: "message", data: response });
    stream.end();
    return STREAMED;
  }
  return { status: 200 as const, body: batch ? responses : responses[0] };
}

export const mcpHandlers: OperationHandlers<"postMcp" | "getMcp" | "deleteMcp"> = {
  postMcp,

  async getMcp() {
    return {
      status: 405,
      body: { detail: "This MCP server sends no server-initiated messages: there is no stream to open (POST requests to /mcp/)" },
      headers: { Allow: "POST, DELETE" },
    };
  },

  async deleteMcp() {
    return { status: 404, body: { detail: "This MCP server keeps no sessions: there is no session to end" } };
  },
};
