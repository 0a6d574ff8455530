/**
 * The limit of this design for bench/http.ts: a bare Express 5 app in its own process answering
 * the same routes with the same JSON from a `Map` (no contract, no validation, no disk). It prints
 * its URL as the first line of stdout.
 *
 * With BARE_SHARED_MAPS=1 its server is made as ours is (src/http/express-server.ts: requests born
 * with the app's prototypes, so V8 shares their hidden classes). Plain `app.listen` is what an
 * Express user writes; this variant is the design's limit once ours has that advantage too.
 */
import { randomUUID } from "node:crypto";
import type { AddressInfo } from "node:net";
import express from "express";
import { expressServer } from "../src/http/express-server.js";

interface Thread {
  thread_id: string;
  created_at: string;
  updated_at: string;
  state_updated_at: string;
  metadata: Record<string, unknown>;
  status: "idle";
  config: Record<string, unknown>;
  values: null;
  interrupts: Record<string, unknown>;
  error: null;
}

const threads = new Map<string, Thread>();
const app = express();
app.disable("x-powered-by");
app.use(express.json({ limit: "50mb" }));

app.get("/ok", (_req, res) => {
  res.json({ ok: true });
});

app.post("/threads", (req, res) => {
  const now = new Date().toISOString();
  const body = req.body as { metadata?: Record<string, unknown> };
  const thread: Thread = {
    thread_id: randomUUID(),
    created_at: now,
    updated_at: now,
    state_updated_at: now,
    metadata: body.metadata ?? {},
    status: "idle",
    config: {},
    values: null,
    interrupts: {},
    error: null,
  };
  threads.set(thread.thread_id, thread);
  res.json(thread);
});

app.get("/threads/:id", (req, res) => {
  const thread = threads.get(req.params.id);
  if (thread) res.json(thread);
  else res.status(404).json({ detail: "not found" });
});

// newest first, like the server's default order: one pass keeping the newest `limit + offset`
app.post("/threads/search", (req, res) => {
  const { limit = 10, offset = 0 } = req.body as { limit?: number; offset?: number };
  const keep = limit + offset;
  const top: Thread[] = []; // newest first
  for (const thread of threads.values()) {
    if (top.length === keep && thread.created_at <= top[keep - 1].created_at) continue;
    let at = top.length;
    while (at > 0 && top[at - 1].created_at < thread.created_at) at--;
    top.splice(at, 0, thread);
    if (top.length > keep) top.pop();
  }
  res.json(top.slice(offset, offset + limit));
});

const server = (process.env.BARE_SHARED_MAPS === "1" ? expressServer(app) : app).listen(0, "127.0.0.1", () => {
  console.log(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
