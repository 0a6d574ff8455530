/**
 * A round-robin HTTP proxy for multi-process tests: consecutive requests go to consecutive
 * backends, the way a load balancer spreads clients over replicas. Responses (SSE included) are
 * piped as they come; a client that goes away aborts its upstream request, so the server sees the
 * disconnect. A backend that refuses the connection (its process was killed) is skipped: the
 * request goes to the next one, as a load balancer's health check would arrange.
 */
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface RoundRobinProxy {
  url: string;
  /** Which backend (index) served each request, in order (tests check the spread). */
  readonly served: number[];
  close(): Promise<void>;
}

const HOP_BY_HOP = new Set(["connection", "keep-alive", "transfer-encoding", "upgrade", "proxy-connection", "te", "trailer"]);

export async function startRoundRobinProxy(backends: readonly string[]): Promise<RoundRobinProxy> {
  let next = 0;
  const served: number[] = [];

  const forward = (req: IncomingMessage, res: ServerResponse, body: Buffer, attempt: number): void => {
    const index = next++ % backends.length;
    const target = new URL(req.url ?? "/", backends[index]);
    const headers = Object.fromEntries(Object.entries(req.headers).filter(([name]) => !HOP_BY_HOP.has(name)));
    const upstream = request(target, { method: req.method, headers: { ...headers, host: target.host } }, (answer) => {
      served.push(index);
      const outHeaders = Object.fromEntries(Object.entries(answer.headers).filter(([name]) => !HOP_BY_HOP.has(name)));
      res.writeHead(answer.statusCode ?? 502, outHeaders);
      res.flushHeaders();
      answer.pipe(res);
      answer.on("error", () => res.destroy());
    });
    upstream.on("error", (error: NodeJS.ErrnoException) => {
      if (!res.headersSent && error.code === "ECONNREFUSED" && attempt < backends.length) {
        forward(req, res, body, attempt + 1);
        return;
      }
      if (!res.headersSent) res.writeHead(502, { "content-type": "application/json" }).end(JSON.stringify({ detail: error.message }));
      else res.destroy();
    });
    // the client went away: so does the upstream request (the server sees its client disconnect)
    res.on("close", () => {
      if (!res.writableFinished) upstream.destroy();
    });
    upstream.end(body);
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => forward(req, res, Buffer.concat(chunks), 1));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    served,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
