/**
 * GET /threads/{id}/stream through the SDK (threads.joinStream): everything that runs on a thread,
 * across consecutive runs, by mode (run_modes, lifecycle, state_update); resuming with
 * Last-Event-ID; the end of the stream when the thread is deleted. Every event is checked against
 * the contract's ThreadStreamEvent.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { LocalRunEventBroker } from "../../src/runtime/runs/local-broker.js";
import type { ComposedRunEngine } from "../../src/runtime/runs/run-engine.js";
import { eventually } from "../support/runs.js";
import { json, startTestServer, type TestServer } from "../support/server.js";
import { contractViolations, STREAMS_CONFIG, type StreamPart } from "../support/streams.js";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ configPath: STREAMS_CONFIG, runs: { shutdownGraceMs: 200 } });
});
afterAll(() => t.dispose());
afterEach(() => expect(t.violations.splice(0)).toEqual([]));

type ThreadMode = "run_modes" | "lifecycle" | "state_update";

/** Follows a thread's stream until `until` says enough (or the stream ends). */
function follow(threadId: string, options: { streamMode?: ThreadMode[]; lastEventId?: string }, until: (parts: StreamPart[]) => boolean) {
  const controller = new AbortController();
  const parts: StreamPart[] = [];
  let opened!: () => void;
  const connected = new Promise<void>((resolve) => (opened = resolve));
  const done = (async () => {
    const stream = t.client.threads.joinStream(threadId, { ...options, signal: controller.signal }) as AsyncIterable<StreamPart>;
    const iterator = stream[Symbol.asyncIterator]();
    const first = iterator.next();
    // the server watches the thread once the stream is open
    const broker = (t.server.services.runs as ComposedRunEngine).broker as LocalRunEventBroker;
    const watchers = broker.threadWatchers;
    eventually(async () => (broker.threadWatchers > watchers ? true : undefined)).then(opened, (error: unknown) => controller.abort(error));
    let next = await first;
    while (!next.done) {
      parts.push(next.value);
      if (until(parts)) {
        controller.abort();
        break;
      }
      next = await iterator.next();
    }
    return parts;
  })();
  return { connected, done };
}

const doneCount = (parts: StreamPart[]) => parts.filter((p) => p.event === "run_done").length;

describe("thread streams", () => {
  it("follows consecutive runs: their events, starts, ends and the state after each", async () => {
    const threadId = (await t.client.threads.create()).thread_id;
    const watch = follow(threadId, { streamMode: ["run_modes", "lifecycle", "state_update"] }, (parts) => doneCount(parts) === 2);
    await watch.connected;
    const first = await t.client.runs.create(threadId, "trivial", { input: { value: 1 }, streamMode: "values" });
    const second = await t.client.runs.create(threadId, "trivial", { input: { value: 10 }, streamMode: "updates", multitaskStrategy: "enqueue" });
    const parts = await watch.done;
    expect(contractViolations(parts, "ThreadStreamEvent")).toEqual([]);

    const ofRun = (runId: string) => parts.filter((p) => p.id!.startsWith(`${runId}:`));
    expect(parts.map((p) => p.id!.split(":")[0])).toEqual([...ofRun(first.run_id), ...ofRun(second.run_id)].map((p) => p.id!.split(":")[0]));
    expect(ofRun(first.run_id).map((p) => p.event)).toEqual([
      "run_start",
      "metadata",
      "values",
      "values",
      "values",
      "values",
      "state_update",
      "run_done",
    ]);
    expect(ofRun(second.run_id).map((p) => p.event)).toEqual(["run_start", "metadata", "updates", "updates", "updates", "state_update", "run_done"]);
    expect(ofRun(first.run_id)[0]).toEqual({ id: `${first.run_id}:0`, event: "run_start", data: { run_id: first.run_id, attempt: 1 } });
    expect(ofRun(first.run_id).at(-2)).toEqual({
      id: `${first.run_id}:state`,
      event: "state_update",
      data: { run_id: first.run_id, values: { value: 4 } },
    });
    expect(ofRun(second.run_id).at(-1)).toEqual({
      id: `${second.run_id}:done`,
      event: "run_done",
      data: { run_id: second.run_id, status: "success", error: null },
    });
  });

  it("relays only the runs' events by default, and only starts and ends for lifecycle", async () => {
    const threadId = (await t.client.threads.create()).thread_id;
    const runModes = follow(threadId, {}, (parts) => doneCount(parts) === 1);
    await runModes.connected;
    const lifecycle = follow(threadId, { streamMode: ["lifecycle"] }, (parts) => doneCount(parts) === 1);
    await lifecycle.connected;
    const run = await t.client.runs.create(threadId, "failing", { input: { message: "nope" } });
    const [relayed, lived] = await Promise.all([runModes.done, lifecycle.done]);
    expect(contractViolations([...relayed, ...lived], "ThreadStreamEvent")).toEqual([]);
    expect(relayed.map((p) => p.event)).toEqual(["metadata", "values", "values", "error", "run_done"]);
    expect(lived.map((p) => p.event)).toEqual(["run_start", "run_done"]);
    expect(lived[1].data).toEqual({ run_id: run.run_id, status: "error", error: { error: "ExampleFailure", message: "nope" } });
  });

  it("resumes after Last-Event-ID: the rest of that run, then the later runs", async () => {
    const threadId = (await t.client.threads.create()).thread_id;
    const stopAt = 3;
    const before = follow(threadId, { streamMode: ["run_modes", "state_update"] }, (parts) => parts.length === stopAt);
    await before.connected;
    const first = await t.client.runs.create(threadId, "slow", { input: { steps: 3, delay_ms: 100 }, streamResumable: true });
    const seen = await before.done;
    const second = await t.client.runs.create(threadId, "trivial", { input: { value: 1 }, streamResumable: true, multitaskStrategy: "enqueue" });
    await t.client.runs.join(threadId, second.run_id);
    const after = await follow(
      threadId,
      { streamMode: ["run_modes", "state_update"], lastEventId: seen.at(-1)!.id },
      (parts) => doneCount(parts) === 2,
    ).done;
    const whole = await follow(threadId, { streamMode: ["run_modes", "state_update"], lastEventId: "-1" }, (parts) => doneCount(parts) === 2).done;
    expect(contractViolations([...seen, ...after, ...whole], "ThreadStreamEvent")).toEqual([]);
    const key = (p: StreamPart) => `${p.id} ${p.event} ${JSON.stringify(p.data)}`;
    expect([...seen, ...after].map(key)).toEqual(whole.map(key));
    expect(whole.filter((p) => p.event === "run_done").map((p) => p.data.run_id)).toEqual([first.run_id, second.run_id]);
  });

  it("ends when the thread is deleted", async () => {
    const threadId = (await t.client.threads.create()).thread_id;
    const watch = follow(threadId, {}, () => false);
    await watch.connected;
    await t.client.threads.delete(threadId);
    expect(await watch.done).toEqual([]);
  });

  it("answers 404 for an unknown thread and 422 for an id that is not a thread stream's", async () => {
    const missing = await fetch(`${t.url}/threads/00000000-0000-4000-8000-000000000000/stream`);
    expect(missing.status).toBe(404);
    await missing.arrayBuffer();
    const threadId = (await t.client.threads.create()).thread_id;
    const bad = await fetch(`${t.url}/threads/${threadId}/stream`, { headers: { "Last-Event-ID": "12" } });
    expect(bad.status).toBe(422);
    expect((await json(bad)).detail).toMatch(/Last-Event-ID/);
    const badMode = await fetch(`${t.url}/threads/${threadId}/stream?stream_mode=values`);
    expect(badMode.status).toBe(422);
    await badMode.arrayBuffer();
  });
});
