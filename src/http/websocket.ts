/**
 * WebSocket upgrades on the server's own port, through the same app as every request: an
 * upgrade request goes through CORS, the mount prefix, authentication and the contract's
 * routing like any GET, and the operation that accepts it (openThreadEventSocket) completes the
 * handshake with `ws`. A request refused on the way (401, 403, 404) gets that HTTP answer on
 * the socket, which is then closed.
 */
import type { IncomingMessage, Server } from "node:http";
import { ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import type { Request, Response } from "express";
import { WebSocketServer, type WebSocket } from "ws";

const UPGRADE = Symbol("lgts.upgrade");

interface PendingUpgrade {
  sockets: WebSocketServer;
  socket: Duplex;
  head: Buffer;
  accepted: boolean;
}

type UpgradeRequest = IncomingMessage & { [UPGRADE]?: PendingUpgrade };

/** Largest frame a client may send (a command): 16 MiB. */
const MAX_PAYLOAD = 16 * 1024 * 1024;

/**
 * Routes the server's upgrade requests through `app` (an express app or any request listener).
 * Returns what closes the open sockets (server shutdown: "going away").
 */
export function serveUpgrades(server: Server, app: (req: IncomingMessage, res: ServerResponse) => void): () => void {
  const sockets = new WebSocketServer({ noServer: true, maxPayload: MAX_PAYLOAD });
  server.on("upgrade", (req: UpgradeRequest, socket: Duplex, head: Buffer) => {
    const pending: PendingUpgrade = { sockets, socket, head, accepted: false };
    req[UPGRADE] = pending;
    const res = new ServerResponse(req);
    res.assignSocket(socket as never);
    // an answer other than the upgrade (a refusal) ends the exchange: the socket was only for it
    res.on("finish", () => {
      if (!pending.accepted) socket.destroy();
    });
    socket.on("error", () => socket.destroy());
    app(req, res);
  });
  return () => {
    for (const client of sockets.clients) client.close(1001, "server stopping");
    sockets.close();
  };
}

/** Whether the request is a WebSocket upgrade this server can accept. */
export function isUpgrade(req: Request): boolean {
  return (req as UpgradeRequest)[UPGRADE] !== undefined && req.headers.upgrade?.toLowerCase() === "websocket";
}

/**
 * Whether the CORS policy lets the request's origin in: browsers send no preflight before a
 * WebSocket, so the policy (which set, or did not set, Access-Control-Allow-Origin) is applied here.
 */
export function originAllowed(req: Request, res: Response): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  const allowed = res.getHeader("Access-Control-Allow-Origin");
  return allowed === "*" || allowed === origin;
}

/** Completes the handshake of an upgrade request (see isUpgrade). */
export function acceptUpgrade(req: Request): Promise<WebSocket> {
  const pending = (req as UpgradeRequest)[UPGRADE];
  if (!pending) throw new Error("not an upgrade request");
  pending.accepted = true;
  return new Promise((resolve) => pending.sockets.handleUpgrade(req, pending.socket, pending.head, resolve));
}
