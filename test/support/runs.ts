/** Helpers shared by the run test suites. */
import { once } from "node:events";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import type { Client } from "@langchain/langgraph-sdk";
import { asyncListener } from "./async-listener.js";
import { REPO_ROOT } from "./server.js";

/** Examples (trivial, slow, interrupt, agent, subgraph) plus the failing and inspect fixtures. */
export const RUNS_CONFIG = path.join(REPO_ROOT, "test/fixtures/runs/langgraph.json");

/** A new thread paused at the `interrupt` graph's question (topic "cats"). */
export async function interruptedThread(client: Client): Promise<string> {
  const { thread_id } = await client.threads.create();
  await client.runs.wait(thread_id, "interrupt", { input: { topic: "cats" } });
  return thread_id;
}

/** Polls `probe` until it returns a value other than undefined (tests only; production code never polls). */
export async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs = 10_000, what = "condition"): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export interface Receiver {
  url: string;
  /** Bodies received so far. */
  received: unknown[];
  /** The `Idempotency-Key` header of every request so far, failed ones included. */
  keys: string[];
  /** Every request so far: its headers and its body as sent (failed ones included). */
  requests: Array<{ headers: IncomingMessage["headers"]; raw: string }>;
  /** Resolves with the next body; rejects when none arrives within `timeoutMs` (default 10 s). */
  next(timeoutMs?: number): Promise<unknown>;
  close(): Promise<void>;
}

/** A local HTTP server collecting JSON POSTs; `fail` answers the first n requests with 500. */
export async function webhookReceiver(options: { fail?: number } = {}): Promise<Receiver> {
  const received: unknown[] = [];
  const keys: string[] = [];
  const requests: Receiver["requests"] = [];
  const waiters: Array<(body: unknown) => void> = [];
  let failures = options.fail ?? 0;
  const server: Server = createServer(
    asyncListener(async (req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      keys.push(String(req.headers["idempotency-key"]));
      requests.push({ headers: req.headers, raw: Buffer.concat(chunks).toString("utf8") });
      if (failures > 0) {
        failures -= 1;
        res.statusCode = 500;
        res.end();
        return;
      }
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as unknown;
      received.push(body);
      res.statusCode = 204;
      res.end();
      waiters.shift()?.(body);
    }),
  );
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    keys,
    requests,
    next: (timeoutMs = 10_000) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no webhook call within ${timeoutMs} ms`)), timeoutMs);
        waiters.push((body) => {
          clearTimeout(timer);
          resolve(body);
        });
      }),
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, "close");
    },
  };
}
