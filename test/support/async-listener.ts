import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";

/**
 * A `node:http` request listener from an async one: a failure answers 500 with the error (the
 * test sees it) instead of becoming an unhandled rejection.
 */
export function asyncListener(handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>): RequestListener {
  return (req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
      res.end(String(error));
    });
  };
}
