/**
 * Requests as the JavaScript clients built on the SDK send them: Agent Chat UI resumes and
 * resolves interrupts with `submit({}, {command})`, i.e. an empty input beside a command; useStream's
 * `resumeSubmit` sends `input: null`. The official servers read an empty input beside a command
 * as no input; a real input beside one stays a 422.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/server.js";
import { interruptedThread } from "../support/runs.js";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t?.dispose());
afterEach(() => expect(t.violations.splice(0)).toEqual([]));

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const pausedThread = () => interruptedThread(t.client);

async function lastValues(stream: AsyncIterable<{ event: string; data: unknown }>): Promise<Json> {
  let values: Json;
  for await (const chunk of stream) if (chunk.event === "values") values = chunk.data;
  return values;
}

describe("a command beside an empty input", () => {
  it("resumes an interrupt as Agent Chat UI's Approve does ({input: {}, command: {resume}})", async () => {
    const threadId = await pausedThread();
    const values = await lastValues(
      t.client.runs.stream(threadId, "interrupt", { input: {}, command: { resume: "approved" }, streamMode: ["values", "messages-tuple"] }),
    );
    expect(values.result).toBe("Draft about cats (approved)");
    expect((await t.client.threads.get(threadId)).status).toBe("idle");
  });

  it("accepts Agent Chat UI's 'Mark as resolved' ({input: {}, command: {goto: '__end__'}}) as a command run", async () => {
    const threadId = await pausedThread();
    const chunks: Array<{ event: string; data: Json }> = [];
    for await (const chunk of t.client.runs.stream(threadId, "interrupt", { input: {}, command: { goto: "__end__" }, streamMode: ["values"] }))
      chunks.push(chunk);
    expect(chunks.filter((c) => c.event === "error")).toEqual([]);
    expect(chunks.some((c) => c.event === "values")).toBe(true);
    const [run] = await t.client.runs.list(threadId, { limit: 1 });
    expect(run.status).not.toBe("error");
    expect((run as Json).kwargs).toMatchObject({ input: null, command: { goto: "__end__" } });
  });

  it("resumes with input null (useStream's resumeSubmit), on every run endpoint", async () => {
    const background = await pausedThread();
    const run = await t.client.runs.create(background, "interrupt", { input: null, command: { resume: "yes" } });
    expect(((await t.client.runs.join(background, run.run_id)) as Json).result).toBe("Draft about cats (yes)");
    const waited = await pausedThread();
    expect(((await t.client.runs.wait(waited, "interrupt", { input: {}, command: { resume: "ok" } })) as Json).result).toBe("Draft about cats (ok)");
  });

  it("is accepted on stateless runs and in batches, and a real input beside a command is a 422 everywhere", async () => {
    const stateless = await t.client.runs.wait(null, "trivial", { input: {}, command: { update: { value: 10 } } });
    expect(stateless).toMatchObject({ value: expect.any(Number) });
    const batch = await t.client.runs.createBatch([
      { assistantId: "trivial", input: {}, command: { update: { value: 1 } } },
      { assistantId: "trivial", input: null, command: { update: { value: 2 } } },
    ] as never);
    expect(batch).toHaveLength(2);

    const threadId = await pausedThread();
    const both = { assistant_id: "interrupt", input: { topic: "dogs" }, command: { resume: "x" } };
    for (const route of [
      `/threads/${threadId}/runs`,
      `/threads/${threadId}/runs/wait`,
      `/threads/${threadId}/runs/stream`,
      "/runs",
      "/runs/wait",
      "/runs/stream",
    ]) {
      const res = await fetch(t.url + route, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(both) });
      expect(res.status, route).toBe(422);
      expect(((await res.json()) as Json).detail, route).toMatch(/^body\.input: give either input or command/);
    }
    const batchBoth = await fetch(`${t.url}/runs/batch`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify([both]),
    });
    expect(batchBoth.status).toBe(422);
    const listInput = await fetch(`${t.url}/runs/wait`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ ...both, input: [] }),
    });
    expect(listInput.status).toBe(422);
  });
});
