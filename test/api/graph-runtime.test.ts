/**
 * What LangGraph servers give graphs at runtime: getLogger() (writing to the server's log with the
 * run's context), LANGGRAPH_CONFIG (default assistants' config and context), and factories
 * built with the thread's config for state operations.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { Client } from "@langchain/langgraph-sdk";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { startServer, type RunningServer } from "../../src/server.js";
import { eventually } from "../support/runs.js";
import { REPO_ROOT } from "../support/server.js";

const CONFIG = path.join(REPO_ROOT, "test/fixtures/graph-runtime/langgraph.json");

interface Started {
  server: RunningServer;
  client: Client;
  logs: Array<Record<string, unknown>>;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  delete process.env.LANGGRAPH_CONFIG;
  while (cleanups.length) await cleanups.pop()!();
});

/** A server on a fresh data directory (or `dataDir`) whose log lines are collected. */
async function start(dataDir?: string): Promise<Started & { dataDir: string; close(): Promise<void> }> {
  const dir = dataDir ?? (await mkdtemp(path.join(tmpdir(), "lgts-runtime-")));
  if (!dataDir) cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const logs: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split("\n")) if (line) logs.push(JSON.parse(line));
      done();
    },
  });
  const server = await startServer({ configPath: CONFIG, port: 0, host: "127.0.0.1", dataDir: dir, logger: pino({ level: "debug" }, sink) });
  let closed = false;
  const close = async () => {
    if (!closed) await server.close();
    closed = true;
  };
  cleanups.push(close);
  return { server, client: new Client({ apiUrl: server.url }), logs, dataDir: dir, close };
}

describe("getLogger()", () => {
  it("works at import time and inside nodes, writing to the server's log with the run's context", async () => {
    const { client, logs } = await start();
    expect(logs).toContainEqual(expect.objectContaining({ source: "graph", msg: "logging graph loaded", at: "import" }));
    const thread = await client.threads.create();
    const run = await client.runs.create(thread.thread_id, "logging", { input: { topic: "otters" } });
    await client.runs.join(thread.thread_id, run.run_id);
    const line = await eventually(async () => logs.find((l) => l.msg === "working on otters"));
    expect(line).toMatchObject({
      level: 40,
      source: "graph",
      topic: "otters",
      graph_id: "logging",
      run_id: run.run_id,
      thread_id: thread.thread_id,
      langgraph_node: "work",
    });
  });
});

describe("several servers in one process", () => {
  it("each one's graphs and custom routes call their own server with new Client() and log to its log", async () => {
    const a = await start();
    const b = await start();
    // one environment variable per process: it names the first server, and the second says so
    expect(process.env.LANGGRAPH_API_URL).toBe(a.server.url);
    expect(b.logs).toContainEqual(expect.objectContaining({ level: 40, msg: expect.stringMatching(/^LANGGRAPH_API_URL names another server/) }));
    expect(a.logs.some((line) => String(line.msg).startsWith("LANGGRAPH_API_URL"))).toBe(false);

    for (const [mine, other] of [
      [a, b],
      [b, a],
    ] as const) {
      const thread = await mine.client.threads.create();
      // the graph asks its server for its thread: only its own server has it
      expect(await mine.client.runs.wait(thread.thread_id, "self", { input: {} })).toEqual({ seen: thread.thread_id });
      const topic = `topic of ${thread.thread_id}`;
      const run = await mine.client.runs.create(thread.thread_id, "logging", { input: { topic } });
      await mine.client.runs.join(thread.thread_id, run.run_id);
      await eventually(async () => mine.logs.find((line) => line.msg === `working on ${topic}`));
      expect(other.logs.find((line) => line.msg === `working on ${topic}`)).toBeUndefined();

      const asked = (await (await fetch(`${mine.server.url}/whoami`)).json()) as { threads: string[] };
      expect(asked.threads).toContain(thread.thread_id);
      const whoami = (logs: Started["logs"]) => logs.filter((line) => line.msg === "whoami asked").length;
      await eventually(async () => whoami(mine.logs) === 1 || undefined);
      expect(whoami(other.logs)).toBe(mine === a ? 0 : 1);
    }

    // stopping the first hands LANGGRAPH_API_URL on to the server still running
    await a.close();
    expect(process.env.LANGGRAPH_API_URL).toBe(b.server.url);
    await b.close();
    expect(process.env.LANGGRAPH_API_URL).toBeUndefined();
  });
});

describe("LANGGRAPH_CONFIG", () => {
  it("sets the default assistants' config and context; a changed value is a new version at restart", async () => {
    process.env.LANGGRAPH_CONFIG = JSON.stringify({ variant: { configurable: { variant: "review" }, tags: ["t"], context: { tone: "dry" } } });
    const first = await start();
    const assistant = await first.client.assistants.get("variant");
    expect(assistant).toMatchObject({ config: { configurable: { variant: "review" }, tags: ["t"] }, context: { tone: "dry" }, version: 1 });
    // the graph built from it has the config's nodes
    const thread = await first.client.threads.create();
    expect(await first.client.runs.wait(thread.thread_id, "variant", { input: { text: "x" } })).toEqual({ text: "draft of x", reviewed: true });
    expect((await first.client.assistants.get("logging")).config).toEqual({});
    await first.close();

    process.env.LANGGRAPH_CONFIG = JSON.stringify({ variant: { configurable: { variant: "plain" } } });
    const second = await start(first.dataDir);
    expect(await second.client.assistants.get("variant")).toMatchObject({
      config: { configurable: { variant: "plain" } },
      context: { tone: "dry" },
      version: 2,
    });
  });

  it("refuses a value naming an unknown graph or of the wrong shape, in one line", async () => {
    process.env.LANGGRAPH_CONFIG = JSON.stringify({ nope: {} });
    await expect(start()).rejects.toThrow(/LANGGRAPH_CONFIG\.nope: no such graph in langgraph\.json \(graphs: logging, variant, self\)$/);
    process.env.LANGGRAPH_CONFIG = JSON.stringify({ variant: { context: 3 } });
    await expect(start()).rejects.toThrow(/LANGGRAPH_CONFIG\.variant\.context: expected an object$/);
    process.env.LANGGRAPH_CONFIG = "{oops";
    await expect(start()).rejects.toThrow(/LANGGRAPH_CONFIG: not valid JSON/);
  });
});

describe("graph factories outside runs", () => {
  it("build a thread's graph with its assistant's config, so state updates reach config-made nodes", async () => {
    const { client } = await start();
    const assistant = await client.assistants.create({ graphId: "variant", config: { configurable: { variant: "review" } } });
    const thread = await client.threads.create();
    await client.runs.wait(thread.thread_id, assistant.assistant_id, { input: { text: "y" } });
    await client.threads.updateState(thread.thread_id, { values: { reviewed: false }, asNode: "review" });
    const state = await client.threads.getState(thread.thread_id);
    expect(state.values).toEqual({ text: "draft of y", reviewed: false });
    expect(state.metadata).toMatchObject({ source: "update" });
  });
});
