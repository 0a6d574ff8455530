/**
 * A loopback gate that graphs under test call before each step they may not take on their own
 * (the "gated" and "stepped" fixtures): a request waits until the test lets it through, so a test
 * decides when a run moves on instead of racing a clock. A request still waiting after `timeoutMs`
 * gets a 503 (then `timedOut` is true), so a broken server fails the test instead of hanging it.
 */
import { once } from "node:events";
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface Gate {
  url: string;
  /** Lets the next `count` requests through, waiting ones first. */
  allow(count: number): void;
  /** Lets every request through, now and from now on. */
  open(): void;
  readonly timedOut: boolean;
  close(): Promise<void>;
}

export async function startGate(timeoutMs = 20_000): Promise<Gate> {
  let allowance = 0;
  let timedOut = false;
  const waiting: Array<{ res: ServerResponse; timer: NodeJS.Timeout }> = [];
  const release = () => {
    while (allowance > 0 && waiting.length > 0) {
      allowance -= 1;
      const { res, timer } = waiting.shift()!;
      clearTimeout(timer);
      if (!res.headersSent && !res.destroyed) res.end("open");
    }
  };
  const server = createServer((_req, res) => {
    const timer = setTimeout(() => {
      timedOut = true;
      const at = waiting.findIndex((w) => w.res === res);
      if (at >= 0) waiting.splice(at, 1);
      res.writeHead(503).end();
    }, timeoutMs);
    waiting.push({ res, timer });
    release();
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  const gate: Gate = {
    url: `http://127.0.0.1:${port}/`,
    allow(count) {
      allowance += count;
      release();
    },
    open: () => gate.allow(Number.POSITIVE_INFINITY),
    get timedOut() {
      return timedOut;
    },
    close: () => {
      gate.open();
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return gate;
}
