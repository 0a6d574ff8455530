/**
 * The "done when": a LangGraph.js project written for `langgraph dev` (examples/dev-project:
 * custom routes in a Hono app, generative-UI components styled with Tailwind, getLogger(),
 * LANGGRAPH_CONFIG, `env`, build-only keys) runs under `lgts dev` unchanged, driven by the SDK.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Client } from "@langchain/langgraph-sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDev, type DevProcess } from "../support/dev-process.js";
import { eventually } from "../support/runs.js";
import { REPO_ROOT } from "../support/server.js";

const CONFIG = path.join(REPO_ROOT, "examples/dev-project/langgraph.json");

let dev: DevProcess;
let dataDir: string;
let client: Client;
beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), "lgts-dev-project-"));
  dev = await startDev({
    configPath: CONFIG,
    dataDir,
    args: ["--no-reload"],
    env: { LANGGRAPH_CONFIG: JSON.stringify({ assistant: { context: { tone: "cheerful" } } }) },
  });
  await dev.waitFor(/API: +http:\/\/127\.0\.0\.1:\d+/);
  client = new Client({ apiUrl: dev.url });
}, 120_000);
afterAll(async () => {
  await dev?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

/** The JSON log lines of the dev server (stdout is not a terminal: no pino-pretty). */
const logLines = () =>
  dev.lines.flatMap((line) => {
    try {
      return [JSON.parse(line) as Record<string, unknown>];
    } catch {
      return [];
    }
  });

const logged = (message: string) => eventually(async () => logLines().find((line) => line.msg === message), 10_000, `the log line "${message}"`);

describe("a langgraph dev project under lgts dev", () => {
  it("runs the graph with the default assistant LANGGRAPH_CONFIG sets, env from langgraph.json, and streams its UI message", async () => {
    const assistant = await client.assistants.get("assistant");
    expect(assistant.context).toEqual({ tone: "cheerful" });

    const thread = await client.threads.create();
    const events: Array<{ event: string; data: unknown }> = [];
    for await (const chunk of client.runs.stream(thread.thread_id, "assistant", {
      input: { messages: [{ role: "user", content: "why is the sky blue?" }] },
      streamMode: ["values", "custom"],
    })) {
      events.push(chunk);
    }
    const text = 'Hi! Sunny here: "why is the sky blue?" is a great question!';
    const custom = events.find((e) => e.event === "custom")?.data;
    expect(custom).toMatchObject({ type: "ui", name: "answer_card", props: { text, tone: "cheerful" } });

    const state = await client.threads.getState<{ messages: Array<{ type: string; content: string; id: string }>; ui: unknown[] }>(thread.thread_id);
    const answer = state.values.messages.at(-1)!;
    expect(answer).toMatchObject({ type: "ai", content: text });
    expect(state.values.ui).toEqual([expect.objectContaining({ name: "answer_card", metadata: expect.objectContaining({ id: answer.id }) })]);

    // getLogger() writes to the server's log with the run's context
    expect(await logged("answering")).toMatchObject({ source: "graph", tone: "cheerful", graph_id: "assistant", thread_id: thread.thread_id });
  });

  it("serves the project's custom routes, which call the server back and stream", async () => {
    expect(await (await fetch(`${dev.url}/health/deep`)).json()).toEqual({ ok: true, assistants: 1 });
    expect(await logged("deep health check")).toMatchObject({ source: "graph", assistants: 1 });
    const countdown = await fetch(`${dev.url}/countdown/3`);
    expect(await countdown.text()).toBe("3\n2\n1\n0\n");
  });

  it("serves the project's UI components with their Tailwind CSS", async () => {
    const snippet = await fetch(`${dev.url}/ui/assistant`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "answer_card" }),
    });
    expect(snippet.status).toBe(200);
    expect(await snippet.text()).toContain(`${dev.url}/ui/assistant/entrypoint.js`);
    const css = await (await fetch(`${dev.url}/ui/assistant/entrypoint.css`)).text();
    for (const utility of [".bg-amber-100", ".text-slate-900", ".rounded-lg", ".shadow-sm", ".leading-relaxed"]) expect(css).toContain(utility);
    const script = await (await fetch(`${dev.url}/ui/assistant/entrypoint.js`)).text();
    expect(script).toContain("answer_card");
  });
});
