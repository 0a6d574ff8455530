/**
 * The thread-centric protocol (v2) over HTTP: commands as JSON requests, events as an SSE
 * stream per filter, and the WebSocket that carries both (src/protocols/thread-protocol).
 */
import { STREAMED, type OperationHandlers } from "../http/operations.js";
import { openSse } from "../http/sse.js";
import { acceptUpgrade, isUpgrade, originAllowed } from "../http/websocket.js";
import { runCommand } from "../protocols/thread-protocol/commands.js";
import { ProtocolSocket } from "../protocols/thread-protocol/socket.js";
import { filterOf, threadReadable } from "../protocols/thread-protocol/subscriptions.js";

const SOCKET_PING_MS = 20_000;

type ProtocolOperations = "sendThreadCommand" | "streamThreadEvents" | "openThreadEventSocket";

export const protocolHandlers: OperationHandlers<ProtocolOperations> = {
  async sendThreadCommand({ params, body, services, auth }) {
    return { status: 200, body: await runCommand({ services, auth, threadId: params.thread_id }, body) };
  },

  async streamThreadEvents({ params, body, services, auth, req, res }) {
    const threadId = params.thread_id;
    const readable = await threadReadable(services, auth, threadId);
    const stop = new AbortController();
    const sse = openSse(req, res);
    sse.onDisconnect(() => stop.abort());
    const events = await services.runs.threadProtocolEvents(threadId, {
      filter: filterOf(body),
      ...(body.since !== undefined ? { since: body.since } : {}),
      readable,
      signal: stop.signal,
    });
    for await (const event of events) await sse.send({ id: event.event_id, event: event.method, data: event });
    sse.end();
    return STREAMED;
  },

  async openThreadEventSocket({ params, services, auth, req, res }) {
    if (!isUpgrade(req)) {
      return { status: 426, body: { detail: "This is the protocol's WebSocket: open it with a WebSocket upgrade (Upgrade: websocket)" } };
    }
    if (!originAllowed(req, res)) {
      return { status: 403, body: { detail: `Origin '${req.headers.origin}' is not allowed by this server's CORS settings` } };
    }
    const threadId = params.thread_id;
    const readable = await threadReadable(services, auth, threadId);
    const ws = await acceptUpgrade(req);
    res.statusCode = 101; // what the handshake answered (the response object itself writes nothing)
    const session = new ProtocolSocket({
      services,
      auth,
      threadId,
      readable,
      logger: services.logger,
      send: (message) => {
        if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(message));
      },
    });
    // text or binary frames alike carry a command's JSON
    ws.on("message", (data) => {
      const text = Array.isArray(data) ? Buffer.concat(data).toString("utf8") : Buffer.from(data as ArrayBuffer).toString("utf8");
      void session.receive(text);
    });
    // a ping now and then keeps idle proxies from closing a socket that waits for the next run
    const ping = setInterval(() => ws.ping(), SOCKET_PING_MS);
    ping.unref();
    const closed = () => {
      clearInterval(ping);
      session.close();
    };
    ws.on("close", closed);
    ws.on("error", closed);
    return STREAMED;
  },
};
