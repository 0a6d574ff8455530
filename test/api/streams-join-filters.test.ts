/** Joining a finished resumable run's stream with a namespace filter. */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/server.js";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.dispose());
afterEach(() => expect(t.violations.splice(0)).toEqual([]));

async function finishedSubgraphRun() {
  const thread = await t.client.threads.create();
  const run = await t.client.runs.create(thread.thread_id, "subgraph", {
    input: { text: " hi " },
    streamMode: ["updates"],
    streamSubgraphs: true,
    streamResumable: true,
  });
  await t.client.runs.join(thread.thread_id, run.run_id);
  return { threadId: thread.thread_id, runId: run.run_id };
}

describe("join filters", () => {
  it("streams only the asked namespaces", async () => {
    const { threadId, runId } = await finishedSubgraphRun();
    const all: string[] = [];
    for await (const part of t.client.runs.joinStream(threadId, runId, { lastEventId: "-1" })) all.push(part.event);
    const childNamespace = all.find((e) => e.startsWith("updates|"))?.slice("updates|".length);
    expect(childNamespace).toMatch(/^child:/);

    const onlyChild: string[] = [];
    for await (const part of t.client.runs.joinStream(threadId, runId, {
      lastEventId: "-1",
      streamNamespaces: [childNamespace!],
    })) {
      onlyChild.push(part.event);
    }
    expect(onlyChild.filter((e) => e !== "metadata")).toEqual(all.filter((e) => e === `updates|${childNamespace}`));
    expect(onlyChild.length).toBeGreaterThan(1);
  });
});
