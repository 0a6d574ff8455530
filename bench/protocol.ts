/**
 * The thread-centric protocol (v2) next to the legacy run stream (`npm run bench:protocol`): the
 * server runs in a child process (bench/server-child.ts, embedded storage in a temp dir); this
 * process drives it over HTTP and a WebSocket. For each sample a new thread, and per transport:
 *
 *  - legacy `runs.stream` (POST /threads/{id}/runs/stream, the SDK's runs.stream): first event =
 *    from sending the POST to the first event on the wire; close = from the run's last event to
 *    the end of the response (the client knows the run is over);
 *  - v2 over SSE (POST /threads/{id}/stream/events opened first, as useStream keeps it open, then
 *    POST /threads/{id}/commands run.start): first event = from sending run.start to the first
 *    event on the stream; close = from the run's last graph event to its root lifecycle
 *    `completed` (a v2 stream stays open across runs: that event is how a client knows);
 *  - v2 over a WebSocket (socket open and subscribed first, then run.start as a frame): same.
 *
 * Graphs: `trivial` (one node) and `agent` (tokens, messages). Options (env):
 * BENCH_PROTOCOL_SAMPLES=100  BENCH_DATA_DIR=<dir>.
 */
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { WebSocket } from "ws";
import { formatQuantiles, loadAverages, quantiles, ServerProcess } from "./support.js";

const SAMPLES = Number(process.env.BENCH_PROTOCOL_SAMPLES ?? 100);

interface Timing {
  firstEvent: number;
  close: number;
}

interface Frame {
  at: number;
  data: { method?: string; params?: { namespace: string[]; data: { event?: string } } };
}

const isRunEnd = (frame: Frame) =>
  frame.data.method === "lifecycle" &&
  frame.data.params?.namespace.length === 0 &&
  ["completed", "failed", "interrupted"].includes(frame.data.params.data.event ?? "");
const isRunStart = (frame: Frame) => frame.data.method === "lifecycle" && frame.data.params?.data.event === "running";

/** Reads SSE frames (their `data:` JSON) as they arrive, each with its arrival time. */
async function* sseFrames(body: ReadableStream<Uint8Array>): AsyncGenerator<Frame> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    const at = performance.now();
    buffer += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const data = buffer
        .slice(0, end)
        .split("\n")
        .find((line) => line.startsWith("data: "));
      buffer = buffer.slice(end + 2);
      if (data) yield { at, data: JSON.parse(data.slice(6)) as Frame["data"] };
    }
  }
}

async function legacy(url: string, body: unknown): Promise<Timing> {
  const threadId = randomUUID();
  await fetch(`${url}/threads`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ thread_id: threadId }) });
  const started = performance.now();
  const res = await fetch(`${url}/threads/${threadId}/runs/stream`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  let first = 0;
  let last = 0;
  for await (const frame of sseFrames(res.body!)) {
    first ||= frame.at;
    last = frame.at;
  }
  return { firstEvent: first - started, close: performance.now() - last };
}

/** The v2 timings of a run from its frames: first event after run.start; last graph event -> root end. */
function v2Timing(frames: Frame[], started: number): Timing {
  const end = frames.findIndex(isRunEnd);
  const lastGraphEvent = frames.slice(0, end).findLast((frame) => !isRunStart(frame)) ?? frames[end - 1];
  return { firstEvent: frames[0].at - started, close: frames[end].at - lastGraphEvent.at };
}

async function v2Sse(url: string, assistantId: string, input: unknown, config: unknown): Promise<Timing> {
  const threadId = randomUUID();
  const abort = new AbortController();
  const res = await fetch(`${url}/threads/${threadId}/stream/events`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ channels: ["lifecycle", "messages", "values"] }),
    signal: abort.signal,
  });
  const frames: Frame[] = [];
  const ended = (async () => {
    for await (const frame of sseFrames(res.body!)) {
      frames.push(frame);
      if (isRunEnd(frame)) return;
    }
  })();
  const started = performance.now();
  await fetch(`${url}/threads/${threadId}/commands`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ id: 1, method: "run.start", params: { assistant_id: assistantId, input, config } }),
  });
  await ended;
  abort.abort();
  return v2Timing(frames, started);
}

async function v2WebSocket(url: string, assistantId: string, input: unknown, config: unknown): Promise<Timing> {
  const threadId = randomUUID();
  const socket = new WebSocket(`${url.replace(/^http/, "ws")}/threads/${threadId}/stream/events`);
  await new Promise((resolve, reject) => socket.once("open", resolve).once("error", reject));
  const frames: Frame[] = [];
  let subscribed!: () => void;
  let ended!: () => void;
  const subscription = new Promise<void>((resolve) => (subscribed = resolve));
  const end = new Promise<void>((resolve) => (ended = resolve));
  socket.on("message", (raw: Buffer) => {
    const at = performance.now();
    const data = JSON.parse(raw.toString("utf8")) as Frame["data"] & { type: string; id?: number };
    if (data.type !== "event") {
      if (data.id === 1) subscribed();
      return;
    }
    const frame = { at, data };
    frames.push(frame);
    if (isRunEnd(frame)) ended();
  });
  socket.send(JSON.stringify({ id: 1, method: "subscription.subscribe", params: { channels: ["lifecycle", "messages", "values"] } }));
  await subscription;
  const started = performance.now();
  socket.send(JSON.stringify({ id: 2, method: "run.start", params: { assistant_id: assistantId, input, config } }));
  await end;
  socket.close();
  return v2Timing(frames, started);
}

async function compare(url: string, name: string, assistantId: string, input: unknown, streamMode: string) {
  const config = { configurable: {} };
  const runs = {
    "legacy runs.stream": () => legacy(url, { assistant_id: assistantId, input, stream_mode: streamMode }),
    "v2 over SSE": () => v2Sse(url, assistantId, input, config),
    "v2 over WebSocket": () => v2WebSocket(url, assistantId, input, config),
  };
  // warm-up: each path a few times
  for (const run of Object.values(runs)) for (let i = 0; i < 5; i++) await run();
  const timings = new Map<string, Timing[]>(Object.keys(runs).map((key) => [key, []]));
  // interleaved, so a change of load on the machine hits every path alike
  for (let i = 0; i < SAMPLES; i++) for (const [key, run] of Object.entries(runs)) timings.get(key)!.push(await run());
  console.log(`\n${name}: ${SAMPLES} runs each (ms; p50 p90 p99 max)`);
  const baseline = quantiles(timings.get("legacy runs.stream")!.map((t) => t.firstEvent)).p50;
  for (const [key, samples] of timings) {
    const first = quantiles(samples.map((t) => t.firstEvent));
    const close = quantiles(samples.map((t) => t.close));
    console.log(`  ${key.padEnd(20)} first event ${formatQuantiles(first, 2)} (p50 x${(first.p50 / baseline).toFixed(2)} legacy)`);
    console.log(`  ${"".padEnd(20)} last event -> close ${formatQuantiles(close, 2)}`);
  }
}

async function main() {
  const dataDir = await mkdtemp(path.join(process.env.BENCH_DATA_DIR ?? tmpdir(), "lgts-bench-protocol-"));
  const config = fileURLToPath(new URL("./graphs/stream.json", import.meta.url));
  const server = await ServerProcess.start({ config, dataDir });
  try {
    console.log(`load average before: ${loadAverages()}`);
    await compare(server.url, "trivial graph (one node, values)", "trivial", { value: 1 }, "values");
    await compare(server.url, "agent graph (tokens)", "agent", { messages: [{ role: "user", content: "hello streaming world" }] }, "messages-tuple");
    console.log(`\nload average after: ${loadAverages()}`);
  } finally {
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
