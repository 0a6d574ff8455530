/**
 * `lgts dev` as a developer meets it: the banner, hot reload that keeps threads, --no-reload, and
 * POST /internal/truncate (dev only; a 404 in serve).
 */
import { mkdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { Client } from "@langchain/langgraph-sdk";
import { afterAll, describe, expect, it } from "vitest";
import { startDev as startDevProcess } from "../support/dev-process.js";
import { json, REPO_ROOT, startTestServer } from "../support/server.js";

const PROJECT = path.join(REPO_ROOT, ".tmp", `dev-test-${process.pid}`);

const graphSource = (version: number) => `
import { Annotation, StateGraph } from "@langchain/langgraph";
const State = Annotation.Root({ version: Annotation<number>, calls: Annotation<number> });
export const graph = new StateGraph(State)
  .addNode("stamp", (state) => ({ version: ${version}, calls: (state.calls ?? 0) + 1 }))
  .addEdge("__start__", "stamp")
  .addEdge("stamp", "__end__")
  .compile();
`;

/** `lgts dev` on the project. */
const startDev = (args: string[] = []) =>
  startDevProcess({ configPath: path.join(PROJECT, "langgraph.json"), dataDir: path.join(PROJECT, ".data"), args });

afterAll(() => rm(PROJECT, { recursive: true, force: true }));

describe("lgts dev", () => {
  it("prints a banner, reloads on a change keeping threads, and truncates on request", async () => {
    await mkdir(PROJECT, { recursive: true });
    await writeFile(path.join(PROJECT, "langgraph.json"), JSON.stringify({ graphs: { stamped: "./graph.ts:graph" } }));
    await writeFile(path.join(PROJECT, "graph.ts"), graphSource(1));
    const dev = await startDev();
    try {
      await dev.waitFor(/API: +http:\/\/127\.0\.0\.1:\d+/);
      expect(dev.lines.join("\n")).toMatch(/Docs: +http:\/\/127\.0\.0\.1:\d+\/docs/);
      expect(dev.lines.join("\n")).toMatch(/useStream\(\{ apiUrl: "http:\/\/127\.0\.0\.1:\d+", assistantId: "stamped" \}\)/);
      const client = new Client({ apiUrl: dev.url });
      const thread = await client.threads.create();
      expect(await client.runs.wait(thread.thread_id, "stamped", { input: {} })).toEqual({ version: 1, calls: 1 });

      await writeFile(path.join(PROJECT, "graph.ts"), graphSource(2));
      await dev.waitFor(/reloaded, serving/);
      // the same thread, now run by the new code
      expect(await client.runs.wait(thread.thread_id, "stamped", { input: {} })).toEqual({ version: 2, calls: 2 });

      const truncated = await fetch(`${dev.url}/internal/truncate`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ threads: true, runs: true, assistants: true, checkpointer: true, store: true }),
      });
      expect(await json(truncated)).toEqual({ ok: true });
      await expect(client.threads.get(thread.thread_id)).rejects.toMatchObject({ status: 404 });
      // the graphs' default assistants stay
      expect((await client.assistants.search()).map((a) => a.graph_id)).toEqual(["stamped"]);
      const bad = await fetch(`${dev.url}/internal/truncate`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: '{"thread": true}',
      });
      expect(bad.status).toBe(422);
      expect((await json(bad)).detail).toMatch(/body\.thread: unknown field/);
      // `checkpoint` (how the official dev server's API suite spells `checkpointer`) empties the checkpoints too
      const kept = await client.threads.create();
      await client.runs.wait(kept.thread_id, "stamped", { input: {} });
      const byAlias = await fetch(`${dev.url}/internal/truncate`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: '{"checkpoint": true}',
      });
      expect(await json(byAlias)).toEqual({ ok: true });
      expect((await client.threads.getState(kept.thread_id)).values).toEqual({});
    } finally {
      await dev.stop();
    }
  }, 180_000);

  it("says so in the banner with --no-reload", async () => {
    const dev = await startDev(["--no-reload"]);
    try {
      await dev.waitFor(/Reload is off \(--no-reload\)/);
    } finally {
      await dev.stop();
    }
  }, 90_000);
});

it("has no /internal/truncate in serve", async () => {
  const t = await startTestServer();
  try {
    const res = await fetch(`${t.url}/internal/truncate`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect(res.status).toBe(404);
  } finally {
    await t.dispose();
  }
});
