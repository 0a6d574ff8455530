/**
 * The A2A endpoint of an assistant (JSON-RPC over HTTP; `message/stream` answers with SSE) and
 * its agent card. Protocol problems are JSON-RPC errors in a 200, except a body that is not a
 * JSON-RPC request (400) and an unknown assistant (404).
 */
import type { components } from "../../generated/openapi.js";
import { disconnectSignal } from "../http/disconnect.js";
import { HttpError } from "../http/errors.js";
import { classify, failure, JsonRpcError, RPC, success, toJsonRpcError, type JsonRpcId } from "../http/jsonrpc.js";
import { STREAMED, type HandlerContext, type OperationHandlers } from "../http/operations.js";
import { openSse } from "../http/sse.js";
import { runnableAssistant } from "../app/assistants.js";
import { runReader } from "../app/run-reader.js";
import { agentCard } from "../protocols/a2a/card.js";
import { messageSend, sendMessage, tasksCancel, tasksGet, type A2aContext } from "../protocols/a2a/methods.js";
import { streamTask } from "../protocols/a2a/stream.js";
import { isNotFound } from "../errors.js";

type A2aResponse = components["schemas"]["A2aResponse"];

/** Implementation-defined JSON-RPC server error: the assistant of the URL does not exist. */
const ASSISTANT_NOT_FOUND = -32000;

const reply = <S extends 200 | 400 | 404>(status: S, body: unknown) => ({ status, body: body as A2aResponse });

/**
 * `message/stream`: the task's stream results as SSE, each a JSON-RPC response. A refused message
 * is an error event too: streaming clients read the answer to a stream request as a stream.
 */
async function stream(id: JsonRpcId, context: A2aContext, params: unknown, { req, res }: HandlerContext<"postA2a">): Promise<typeof STREAMED> {
  const events = openSse(req, res);
  let seq = 0;
  const send = (data: unknown) => events.send({ id: String(++seq), event: "message", data });
  try {
    const sent = await sendMessage(context, params);
    for await (const result of streamTask(context, sent)) await send(success(id, result));
  } catch (error) {
    await send(failure(id, toJsonRpcError(error, context.services.logger)));
  }
  events.end();
  return STREAMED;
}

async function postA2a(ctx: HandlerContext<"postA2a">) {
  const { body, params, req, res, services, auth } = ctx;
  // express parses only JSON bodies: anything else arrives as no body at all
  if (req.body === undefined) {
    return reply(400, failure(null, new JsonRpcError(RPC.parseError, "Parse error: the body must be JSON (Content-Type: application/json)")));
  }
  const incoming = classify(body);
  if (incoming.kind === "invalid") return reply(400, failure(incoming.id, incoming.error));
  if (incoming.kind !== "request") {
    return reply(
      400,
      failure(null, new JsonRpcError(RPC.invalidRequest, "Invalid Request: A2A takes requests (with an id), not notifications or responses")),
    );
  }
  const { id, method, params: methodParams } = incoming;
  let context: A2aContext;
  try {
    // an agent is run here: a graph's default assistant is anyone's who may create runs
    const assistant = await runnableAssistant(services, auth, params.assistant_id);
    context = { services, reader: await runReader(services, auth), auth, assistant, signal: disconnectSignal(req, res) };
  } catch (error) {
    const missing = isNotFound(error) || (error instanceof HttpError && error.status === 404);
    if (!missing) throw error;
    return reply(404, failure(id, new JsonRpcError(ASSISTANT_NOT_FOUND, (error as Error).message)));
  }
  try {
    switch (method) {
      case "message/send":
        return reply(200, success(id, await messageSend(context, methodParams)));
      case "message/stream":
        return await stream(id, context, methodParams, ctx);
      case "tasks/get":
        return reply(200, success(id, await tasksGet(context, methodParams)));
      case "tasks/cancel":
        return reply(200, success(id, await tasksCancel(context, methodParams)));
      default:
        throw new JsonRpcError(
          RPC.methodNotFound,
          `Method not found: '${method}' (this agent offers message/send, message/stream, tasks/get and tasks/cancel)`,
        );
    }
  } catch (error) {
    return reply(200, failure(id, toJsonRpcError(error, services.logger)));
  }
}

export const a2aHandlers: OperationHandlers<"postA2a" | "getA2aAgentCard"> = {
  postA2a,

  async getA2aAgentCard({ query, req, services, auth }) {
    // the card of every agent a caller may run
    const assistant = await runnableAssistant(services, auth, query.assistant_id);
    return { status: 200, body: agentCard(services.graphs, assistant, `${req.protocol}://${req.get("host")}`) };
  },
};
