/**
 * Joining and resuming run streams through the SDK: joining live, replay after Last-Event-ID
 * (the union with what came before equals an uninterrupted stream: nothing lost, nothing
 * repeated), the SDK's own reconnect after a broken connection, resumable retention, the join
 * filter, and what a client going away does to the run (on_disconnect, cancel_on_disconnect).
 */
import { Client } from "@langchain/langgraph-sdk";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { ComposedRunEngine } from "../../src/runtime/runs/run-engine.js";
import { startGate, type Gate } from "../support/gate.js";
import { eventually } from "../support/runs.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { collect, contractViolations, STREAMS_CONFIG, type StreamPart } from "../support/streams.js";

/** Long enough that no test, however slow the machine, outlives a resumable run's events. */
const RETENTION_MS = 10 * 60_000;
let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ configPath: STREAMS_CONFIG, runs: { shutdownGraceMs: 200, resumableRetentionMs: RETENTION_MS } });
});
afterAll(() => t.dispose());
afterEach(() => expect(t.violations.splice(0)).toEqual([]));
let gate: Gate;
beforeEach(async () => {
  gate = await startGate();
});
afterEach(() => gate.close());

const newThread = async () => (await t.client.threads.create()).thread_id;
/** Five steps of 150 ms, each a values event: long enough to join or drop the connection mid-run. */
const slowInput = { steps: 5, delay_ms: 150 };
/** The "stepped" graph's five steps, each taken only when `gate` lets it: a run held mid-way. */
const stepped = () => ({ input: { steps: 5 }, config: { configurable: { gate_url: gate.url } } });
/** Subscriptions to run streams on the server, whichever backend: to know a join has begun. */
const subscriptions = () => ((t.server.services.runs as ComposedRunEngine).broker as unknown as { subscribers: number }).subscribers;
const key = (p: StreamPart) => `${p.id} ${p.event} ${JSON.stringify(p.data)}`;

/** Reads a stream until `count` events arrived, then leaves (the SDK aborts the request). */
async function readSome(stream: (signal: AbortSignal) => AsyncIterable<StreamPart>, count: number): Promise<StreamPart[]> {
  const controller = new AbortController();
  const parts: StreamPart[] = [];
  for await (const part of stream(controller.signal)) {
    parts.push(part);
    if (parts.length === count) {
      controller.abort();
      break;
    }
  }
  return parts;
}

/**
 * Resolves as `join` does, or fails after `ms`: a join that should close at once must not hang
 * (with events held for the long retention, hanging would last minutes).
 */
async function closesAtOnce<T>(join: Promise<T>, ms = 15_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the join was still open after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([join, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

const joinAll = (threadId: string | null, runId: string, options: Parameters<Client["runs"]["joinStream"]>[2] = {}) =>
  collect(t.client.runs.joinStream(threadId, runId, options) as AsyncIterable<StreamPart>);

describe("joining a run's stream", () => {
  it("delivers live events from the moment of joining, or everything with Last-Event-ID -1", async () => {
    const threadId = await newThread();
    const run = await t.client.runs.create(threadId, "stepped", { ...stepped(), streamMode: "values" });
    await eventually(async () => ((await t.client.runs.get(threadId, run.run_id)).status === "running" ? true : undefined));
    // the run waits at its first step until both joins are subscribed
    const before = subscriptions();
    const joins = Promise.all([joinAll(threadId, run.run_id), joinAll(threadId, run.run_id, { lastEventId: "-1" })]);
    await eventually(async () => (subscriptions() === before + 2 ? true : undefined), 20_000, "both joins to subscribe");
    gate.open();
    const [live, all] = await joins;
    expect(contractViolations([...live, ...all], "RunStreamEvent")).toEqual([]);
    expect(all.map((p) => p.id)).toEqual(all.map((_, i) => String(i)));
    expect(all.map((p) => p.event)).toEqual(["metadata", ...Array(6).fill("values")]);
    // the live join's events are the tail of the whole stream
    expect(live.length).toBeGreaterThan(0);
    expect(live.map(key)).toEqual(all.slice(all.length - live.length).map(key));
    expect((await t.client.runs.get(threadId, run.run_id)).status).toBe("success");
    // a finished run without stream_resumable has nothing left to send: the join ends at once
    expect(await closesAtOnce(joinAll(threadId, run.run_id, { lastEventId: "-1" }))).toEqual([]);
  });

  it("filters a join by stream mode (metadata and errors always pass)", async () => {
    const threadId = await newThread();
    const run = await t.client.runs.create(threadId, "agent", {
      input: { messages: [{ role: "user", content: "hi there" }] },
      streamMode: ["values", "updates", "messages-tuple"],
      streamResumable: true,
    });
    await t.client.runs.join(threadId, run.run_id);
    const updates = await joinAll(threadId, run.run_id, { lastEventId: "-1", streamMode: ["updates"] });
    expect(updates.map((p) => p.event)).toEqual(["metadata", "updates"]);
    const tuples = await joinAll(threadId, run.run_id, { lastEventId: "-1", streamMode: ["messages-tuple"] });
    expect(tuples.map((p) => p.event)).toEqual(["metadata", "messages", "messages", "messages"]);
  });
});

describe("resuming", () => {
  it("resumes after Last-Event-ID mid-run: the union equals the uninterrupted stream", async () => {
    const threadId = await newThread();
    let runId = "";
    gate.allow(1); // metadata, the input's values, then step 1's updates and values; step 2 waits
    const first = await readSome(
      (signal) =>
        t.client.runs.stream(threadId, "stepped", {
          ...stepped(),
          streamMode: ["values", "updates"],
          streamResumable: true,
          onDisconnect: "continue",
          signal,
          onRunCreated: (meta) => (runId = meta.run_id),
        }) as AsyncIterable<StreamPart>,
      4,
    );
    expect((await t.client.runs.get(threadId, runId)).status).toBe("running");
    gate.open();
    const rest = await joinAll(threadId, runId, { lastEventId: first.at(-1)!.id });
    const whole = await joinAll(threadId, runId, { lastEventId: "-1" });
    expect(contractViolations([...first, ...rest, ...whole], "RunStreamEvent")).toEqual([]);
    expect([...first, ...rest].map(key)).toEqual(whole.map(key));
    expect(whole.map((p) => p.id)).toEqual(whole.map((_, i) => String(i))); // numbered from 0, as the official servers do
    expect(whole.length).toBe(1 + 6 + 5);
  });

  it("lets the SDK reconnect by itself (Location + Last-Event-ID) after the connection breaks", async () => {
    const requests: Array<{ method: string; url: string; lastEventId: string | null }> = [];
    let broken = false;
    // a fetch whose first event stream dies after its first chunks, like a dropped connection
    const flakyFetch = async (input: string | URL | Request, init?: RequestInit) => {
      const res = await fetch(input, init);
      requests.push({ method: init?.method ?? "GET", url: String(input), lastEventId: new Headers(init?.headers).get("last-event-id") });
      if (broken || !res.headers.get("content-type")?.startsWith("text/event-stream")) return res;
      broken = true;
      const reader = res.body!.getReader();
      let events = 0;
      const body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          const { done, value } = await reader.read();
          if (done) return controller.close();
          controller.enqueue(value);
          events += new TextDecoder().decode(value).split("\n\n").length - 1;
          if (events >= 3) {
            await reader.cancel();
            controller.error(new TypeError("terminated (simulated network failure)"));
          }
        },
      });
      return new Response(body, { status: res.status, headers: res.headers });
    };
    const client = new Client({ apiUrl: t.url, callerOptions: { fetch: flakyFetch } });
    const threadId = (await client.threads.create()).thread_id;
    let runId = "";
    const parts = await collect(
      client.runs.stream(threadId, "slow", {
        input: { steps: 8, delay_ms: 250 },
        streamMode: "values",
        streamResumable: true,
        onDisconnect: "continue",
        onRunCreated: (meta) => (runId = meta.run_id),
      }) as AsyncIterable<StreamPart>,
    );
    const reconnect = requests.find((r) => r.method === "GET" && r.url.includes("/stream"));
    expect(reconnect?.url).toBe(`${t.url}/threads/${threadId}/runs/${runId}/stream`);
    // the SDK resumes after the last event it parsed before the failure
    expect(Number(reconnect?.lastEventId)).toBeGreaterThanOrEqual(0);
    expect(parts.map((p) => p.id)).toEqual(parts.map((_, i) => String(i)));
    expect(parts.map((p) => p.event)).toEqual(["metadata", ...Array(9).fill("values")]);
    expect(parts.at(-1)!.data).toMatchObject({ completed: 8 });
  });

  it("keeps a resumable run's events for the retention: a late join replays and closes at once", async () => {
    const run = await t.client.runs.create(null, "custom", { input: { count: 2 }, streamMode: "custom", streamResumable: true });
    const live = await joinAll(null, run.run_id, { lastEventId: "-1" });
    expect(live.map((p) => p.event)).toEqual(["metadata", "custom", "custom", "custom"]);
    // the stateless run is deleted with its temporary thread at its end; its events are still held
    await eventually(() =>
      t.server.services.storage.runs.get(run.run_id).then(
        () => undefined,
        () => true,
      ),
    );
    const replay = await closesAtOnce(joinAll(null, run.run_id, { lastEventId: "-1" }));
    expect(replay.map(key)).toEqual(live.map(key));
    expect((await joinAll(null, run.run_id, { lastEventId: "1" })).map(key)).toEqual(live.slice(2).map(key));
    expect(await t.server.services.runs.holdsEvents(run.run_id)).toBe(true);
  });

  it("drops a resumable run's events when the retention ends", async () => {
    // a server of its own with a short retention: the expiry is awaited, never raced
    const short = await startTestServer({ configPath: STREAMS_CONFIG, runs: { shutdownGraceMs: 200, resumableRetentionMs: 1000 } });
    try {
      const run = await short.client.runs.create(null, "custom", { input: { count: 2 }, streamMode: "custom", streamResumable: true });
      const live = await collect(short.client.runs.joinStream(null, run.run_id, { lastEventId: "-1" }) as AsyncIterable<StreamPart>);
      expect(live.map((p) => p.event)).toEqual(["metadata", "custom", "custom", "custom"]);
      // after the retention the events are gone, and so is the stateless run
      await eventually(
        async () => ((await (await fetch(`${short.url}/runs/${run.run_id}/stream`)).text()).includes("404: ") ? true : undefined),
        30_000,
        "the events to go",
      );
      expect(await short.server.services.runs.holdsEvents(run.run_id)).toBe(false);
      expect(short.violations).toEqual([]);
    } finally {
      await short.dispose();
    }
  }, 60_000);
});

describe("rejoining from a checkpoint (useStream's reconnect after a reload)", () => {
  /** A finished resumable run of five steps, and the thread's checkpoints (newest first). */
  async function finishedSlowRun() {
    const threadId = await newThread();
    const before = await t.client.runs.wait(threadId, "trivial", { input: { value: 0 } });
    expect(before).toEqual({ value: 3 });
    const [head] = await t.client.threads.getHistory(threadId, { limit: 1 });
    const run = await t.client.runs.create(threadId, "slow", { input: slowInput, streamMode: ["values", "updates"], streamResumable: true });
    await t.client.runs.join(threadId, run.run_id);
    const history = await t.client.threads.getHistory(threadId, { limit: 20 });
    return { threadId, runId: run.run_id, headBeforeRun: head.checkpoint.checkpoint_id!, history };
  }

  it("sends only what came after the checkpoint the client holds, as the SDK asks for it", async () => {
    const { threadId, runId, history } = await finishedSlowRun();
    const held = history.find((s) => (s.values as { completed?: number }).completed === 2 && s.metadata?.run_id === runId)!;
    const rejoined = await joinAll(threadId, runId, { lastEventId: "-1", checkpointId: held.checkpoint.checkpoint_id! });
    const whole = await joinAll(threadId, runId, { lastEventId: "-1" });
    expect(contractViolations(rejoined, "RunStreamEvent")).toEqual([]);
    expect(rejoined[0]).toMatchObject({ event: "metadata", data: { run_id: runId } });
    // steps 3 to 5: their updates and values, exactly the tail of the whole stream
    const values = rejoined.filter((p) => p.event === "values").map((p) => p.data.completed);
    expect(values).toEqual([3, 4, 5]);
    expect(rejoined.filter((p) => p.event === "updates").map((p) => p.data.work.completed)).toEqual([3, 4, 5]);
    expect(rejoined.slice(1).map(key)).toEqual(whole.slice(whole.length - rejoined.length + 1).map(key));
  });

  it("replays everything for a checkpoint from before the run, nothing but metadata for the run's last one", async () => {
    const { threadId, runId, headBeforeRun, history } = await finishedSlowRun();
    const whole = await joinAll(threadId, runId, { lastEventId: "-1" });
    const fromBefore = await joinAll(threadId, runId, { lastEventId: "-1", checkpointId: headBeforeRun });
    expect(fromBefore.map(key)).toEqual(whole.map(key));
    const fromLast = await joinAll(threadId, runId, { lastEventId: "-1", checkpointId: history[0].checkpoint.checkpoint_id! });
    expect(fromLast.map((p) => p.event)).toEqual(["metadata"]);
    // a Last-Event-ID naming an event is more precise than the checkpoint: it wins
    const afterTwo = await joinAll(threadId, runId, { lastEventId: "1", checkpointId: headBeforeRun });
    expect(afterTwo.map(key)).toEqual(whole.slice(2).map(key));
  });
});

describe("when the client goes away", () => {
  it("cancels the run with on_disconnect cancel (the default)", async () => {
    const threadId = await newThread();
    let runId = "";
    // the run waits at its first step: only the client leaving can end it
    await readSome(
      (signal) =>
        t.client.runs.stream(threadId, "stepped", { ...stepped(), signal, onRunCreated: (m) => (runId = m.run_id) }) as AsyncIterable<StreamPart>,
      2,
    );
    const run = await eventually(async () => {
      const current = await t.client.runs.get(threadId, runId);
      return current.status === "interrupted" ? current : undefined;
    });
    expect(run.status).toBe("interrupted");
    expect((await t.client.threads.get(threadId)).status).not.toBe("busy");
  });

  it("lets the run finish with on_disconnect continue, and it stays joinable", async () => {
    const threadId = await newThread();
    let runId = "";
    const first = await readSome(
      (signal) =>
        t.client.runs.stream(threadId, "slow", {
          input: slowInput,
          onDisconnect: "continue",
          streamResumable: true,
          signal,
          onRunCreated: (m) => (runId = m.run_id),
        }) as AsyncIterable<StreamPart>,
      2,
    );
    const rest = await joinAll(threadId, runId, { lastEventId: first.at(-1)!.id });
    expect(rest.at(-1)!.data).toMatchObject({ completed: 5 });
    expect((await t.client.runs.get(threadId, runId)).status).toBe("success");
  });

  it("cancels a joined run only when the join asked for it (cancel_on_disconnect)", async () => {
    const threadId = await newThread();
    const kept = await t.client.runs.create(threadId, "slow", { input: slowInput, multitaskStrategy: "enqueue" });
    await readSome((signal) => t.client.runs.joinStream(threadId, kept.run_id, { signal, lastEventId: "-1" }) as AsyncIterable<StreamPart>, 2);
    await t.client.runs.join(threadId, kept.run_id);
    expect((await t.client.runs.get(threadId, kept.run_id)).status).toBe("success");

    const cancelled = await t.client.runs.create(threadId, "stepped", stepped());
    await readSome(
      (signal) =>
        t.client.runs.joinStream(threadId, cancelled.run_id, { signal, lastEventId: "-1", cancelOnDisconnect: true }) as AsyncIterable<StreamPart>,
      2,
    );
    await eventually(async () => ((await t.client.runs.get(threadId, cancelled.run_id)).status === "interrupted" ? true : undefined));
  });

  it("frees the stream's subscription when the client leaves, while the run goes on", async () => {
    const threadId = await newThread();
    // held at its first step: the run cannot end (which drops every subscriber anyway) before the check
    const run = await t.client.runs.create(threadId, "stepped", stepped());
    const before = subscriptions();
    const controller = new AbortController();
    const stream = t.client.runs.joinStream(threadId, run.run_id, { signal: controller.signal, lastEventId: "-1" });
    for await (const part of stream as AsyncIterable<StreamPart>) {
      if (part.event !== "values") continue;
      expect(subscriptions()).toBe(before + 1);
      controller.abort();
      break;
    }
    await eventually(async () => (subscriptions() === before ? true : undefined), 20_000, "the subscription to go");
    expect((await t.client.runs.get(threadId, run.run_id)).status).toBe("running");
    await t.client.runs.cancel(threadId, run.run_id, true);
    // a run that is not resumable frees its channel at its end (resumable ones are kept for the retention)
    await eventually(async () => ((await t.server.services.runs.holdsEvents(run.run_id)) ? undefined : true), 20_000, "the channel to be freed");
  });
});
