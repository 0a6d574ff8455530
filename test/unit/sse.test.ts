/** The SSE writer over a real HTTP connection: wire format, heartbeats, backpressure, disconnects. */
import { once } from "node:events";
import { createServer, get, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import express, { type Request, type Response } from "express";
import { afterEach, describe, expect, it } from "vitest";
import { openSse } from "../../src/http/sse.js";

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  server?.close();
  server = undefined;
});

/** Express 5 passes a rejected route's error on to its error handling. */
async function serve(route: (req: Request, res: Response) => void | Promise<void>): Promise<string> {
  const app = express();
  app.get("/stream", route);
  server = createServer(app);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/stream`;
}

const request = (url: string) => new Promise<IncomingMessage>((resolve) => get(url, resolve));

async function readAll(res: IncomingMessage): Promise<string> {
  let text = "";
  for await (const chunk of res) text += chunk;
  return text;
}

describe("openSse", () => {
  it("hands each event to the socket at once, not at the next tick (which code computing in microtasks, a graph, holds back)", async () => {
    let corked: number | undefined;
    const url = await serve(async (req, res) => {
      const sse = openSse(req, res);
      await Promise.resolve(); // among microtasks now, where a run's events are written
      const sent = sse.send({ event: "metadata", data: { run_id: "r" } });
      // node's http corks the socket at a write and uncorks it on the next tick: only once the
      // microtasks drained (a graph computing in them would hold the event until it yields)
      corked = res.socket!.writableCorked;
      await sent;
      sse.end();
    });
    expect(await readAll(await request(url))).toContain("event: metadata");
    expect(corked).toBe(0);
  });

  it("writes events with an id, sends heartbeats while idle, and ends", async () => {
    const url = await serve((req, res) => {
      // the last event goes once two heartbeats went out (however slow the machine)
      let heartbeats = 0;
      const write = res.write.bind(res) as (chunk: unknown) => boolean;
      res.write = ((chunk: unknown) => {
        const written = write(chunk);
        if (String(chunk).startsWith(": heartbeat") && ++heartbeats === 2) {
          void sse.send({ id: "2", event: "updates|child:1", data: null });
          sse.end();
        }
        return written;
      }) as typeof res.write;
      const sse = openSse(req, res, { heartbeatMs: 20, headers: { Location: "/runs/r/stream" } });
      void sse.send({ id: "1", event: "values", data: { a: 1 } });
    });
    const res = await request(url);
    expect(res.headers["content-type"]).toMatch(/^text\/event-stream/);
    expect(res.headers["x-accel-buffering"]).toBe("no");
    expect(res.headers.location).toBe("/runs/r/stream");
    const text = await readAll(res);
    expect(text.startsWith('event: values\ndata: {"a":1}\nid: 1\n\n')).toBe(true);
    expect(text.endsWith("event: updates|child:1\ndata: null\nid: 2\n\n")).toBe(true);
    expect(text.match(/^: heartbeat$/gm)?.length).toBeGreaterThanOrEqual(2);
  });

  it("makes send wait while the client does not read, without losing or reordering events", async () => {
    const payload = "x".repeat(64 * 1024);
    let resolved = 0;
    let sent!: () => void;
    const allSent = new Promise<void>((resolve) => (sent = resolve));
    const url = await serve(async (req, res) => {
      const sse = openSse(req, res);
      for (let n = 1; n <= 100; n++) {
        void sse.send({ id: String(n), event: "custom", data: payload }).then(() => (resolved += 1));
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
      sent();
    });
    const res = await request(url);
    res.pause();
    await allSent;
    // 6.4 MB cannot all be in flight to a client that reads nothing
    expect(resolved).toBeLessThan(100);
    res.resume();
    const chunks: string[] = [];
    for await (const chunk of res) {
      chunks.push(String(chunk));
      if (chunks.join("").split("\n\n").length > 100) break;
    }
    const ids = [...chunks.join("").matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
    expect(ids).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(resolved).toBe(100);
  });

  it("tells once when the client leaves, and ignores later sends", async () => {
    let left!: () => void;
    const gone = new Promise<void>((resolve) => (left = resolve));
    let calls = 0;
    let writes = 0;
    let writesAtDisconnect = -1;
    let afterwards: Promise<void> | undefined;
    const url = await serve((req, res) => {
      const write = res.write.bind(res) as (...args: unknown[]) => boolean;
      res.write = ((...args: unknown[]) => {
        writes += 1;
        return write(...args);
      }) as typeof res.write;
      const sse = openSse(req, res);
      sse.onDisconnect(() => {
        calls += 1;
        expect(sse.closed).toBe(true);
        writesAtDisconnect = writes;
        afterwards = sse.send({ id: "9", event: "values", data: {} }).then(() => sse.end());
        left();
      });
      void sse.send({ id: "1", event: "metadata", data: {} });
    });
    const res = await request(url);
    await once(res, "data");
    res.destroy();
    await gone;
    await afterwards;
    expect(calls).toBe(1);
    expect(writesAtDisconnect).toBeGreaterThanOrEqual(1);
    expect(writes).toBe(writesAtDisconnect);
  });

  it("notices a client that left before the stream opened", async () => {
    let told!: () => void;
    const noticed = new Promise<void>((resolve) => (told = resolve));
    const url = await serve(async (req, res) => {
      await once(req.socket, "close");
      const sse = openSse(req, res);
      expect(sse.closed).toBe(true);
      sse.onDisconnect(told);
    });
    const req = get(url);
    req.on("error", () => {});
    req.on("socket", (socket) => socket.on("connect", () => setTimeout(() => req.destroy(), 20)));
    await noticed;
  });
});
