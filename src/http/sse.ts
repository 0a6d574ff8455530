import type { Request, Response } from "express";
import type { SseEvent } from "../runtime/streams/event-names.js";

export type { SseEvent };

export interface SseOptions {
  /** Extra headers, e.g. `Location` / `Content-Location` pointing at the join URL. */
  headers?: Record<string, string>;
  /** A comment line is sent this often so idle proxies keep the connection open. */
  heartbeatMs?: number;
}

export interface SseStream {
  /** Resolves once the event is handed to the socket; waits while the client reads slowly. */
  send(event: SseEvent): Promise<void>;
  end(): void;
  /** True once the client went away (or `end` was called). */
  readonly closed: boolean;
  /** Called once when the client disconnects before `end`. */
  onDisconnect(listener: () => void): void;
}

const DEFAULT_HEARTBEAT_MS = 10_000;

/** `Last-Event-ID` of a reconnecting client; `-1` asks for a replay from the start. */
export function lastEventId(req: Request): string | undefined {
  const header = req.headers["last-event-id"];
  return Array.isArray(header) ? header[0] : header;
}

function frame({ id, event, data }: SseEvent): string {
  // JSON never contains a raw newline, so one `data:` line always carries the whole payload
  const idLine = id === undefined ? "" : `id: ${id}\n`;
  return `event: ${event}\ndata: ${JSON.stringify(data ?? null)}\n${idLine}\n`;
}

/** Starts a `text/event-stream` answer on `res`. */
export function openSse(req: Request, res: Response, options: SseOptions = {}): SseStream {
  res.status(200);
  res.set({
    "Content-Type": "text/event-stream; charset=utf-8",
    "Cache-Control": "no-cache, no-transform",
    Connection: "keep-alive",
    // nginx and similar proxies buffer responses unless told not to
    "X-Accel-Buffering": "no",
    ...options.headers,
  });
  res.flushHeaders();
  req.socket.setNoDelay(true);

  let closed = false;
  /** Set while the socket's buffer is full: one wait for `drain`, shared by every sender. */
  let draining: Promise<void> | null = null;
  const disconnectListeners: Array<() => void> = [];
  const heartbeat = setInterval(() => {
    if (!closed) res.write(": heartbeat\n\n");
  }, options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS);
  heartbeat.unref();

  const finish = () => {
    closed = true;
    clearInterval(heartbeat);
  };
  res.on("close", () => {
    if (closed) return;
    finish();
    for (const listener of disconnectListeners) listener();
  });
  // The client may have gone while the handler prepared the stream: "close" will not come again.
  const goneAlready = req.socket.destroyed;
  if (goneAlready) finish();

  return {
    get closed() {
      return closed;
    },
    async send(event) {
      // senders that did not wait their turn queue behind the one waiting for the client, in order
      while (draining) await draining;
      if (closed) return;
      const flowing = res.write(frame(event));
      // node's http corks the socket at a write and uncorks it on the next tick, which comes only
      // once the microtasks drain: a graph computing in promise continuations (a run's events are
      // written among them) would hold the event back until it yields, often its end
      res.socket?.uncork();
      if (!flowing) {
        draining = new Promise<void>((resolve) => {
          const done = () => {
            res.off("drain", done);
            res.off("close", done);
            draining = null;
            resolve();
          };
          res.on("drain", done);
          res.on("close", done);
        });
        await draining;
      }
    },
    end() {
      if (closed) return;
      finish();
      res.end();
    },
    onDisconnect(listener) {
      if (goneAlready) queueMicrotask(listener);
      else disconnectListeners.push(listener);
    },
  };
}
