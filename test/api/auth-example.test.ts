/** examples/auth: the runnable JWT example rejects requests without a token; two users see disjoint data through the SDK. */
import path from "node:path";
import { Client } from "@langchain/langgraph-sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeToken } from "../../examples/auth/make-token.js";
import { REPO_ROOT, startTestServer, type TestServer } from "../support/server.js";

let t: TestServer;
const clientOf = async (user: string) => new Client({ apiUrl: t.url, defaultHeaders: { Authorization: `Bearer ${await makeToken(user)}` } });

beforeAll(async () => {
  t = await startTestServer({ configPath: path.join(REPO_ROOT, "examples/auth/langgraph.json") });
});
afterAll(async () => {
  await t?.dispose();
});

describe("examples/auth", () => {
  it("rejects requests without a valid token", async () => {
    const missing = await fetch(`${t.url}/threads/search`, { method: "POST" });
    expect([missing.status, await missing.json()]).toEqual([401, { detail: "Missing bearer token" }]);
    const forged = await fetch(`${t.url}/threads/search`, {
      method: "POST",
      headers: { Authorization: "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZSJ9." },
    });
    expect(forged.status).toBe(401);
    expect((await fetch(`${t.url}/ok`)).status).toBe(200);
  });

  it("keeps each user's threads, assistants, runs, crons and store items private", async () => {
    const alice = await clientOf("alice");
    const bob = await clientOf("bob");
    const assistant = await alice.assistants.create({ graphId: "agent", name: "alice's agent" });
    const thread = await alice.threads.create();
    await alice.runs.wait(thread.thread_id, assistant.assistant_id, { input: { messages: [{ role: "user", content: "hi" }] } });
    const cron = await alice.crons.createForThread(thread.thread_id, assistant.assistant_id, { schedule: "0 0 1 1 *" });
    await alice.store.putItem(["notes"], "n1", { text: "alice's note" });

    expect(await bob.threads.search()).toEqual([]);
    expect(await bob.assistants.search()).toEqual([]);
    expect(await bob.crons.search()).toEqual([]);
    await expect(bob.threads.getState(thread.thread_id)).rejects.toMatchObject({ status: 404 });
    await expect(bob.runs.list(thread.thread_id)).rejects.toMatchObject({ status: 404 });
    await expect(bob.crons.delete(cron.cron_id)).rejects.toMatchObject({ status: 404 });
    expect(await bob.store.getItem(["notes"], "n1")).toBeNull();
    expect((await bob.store.searchItems([])).items).toEqual([]);

    expect((await alice.threads.search()).map((th) => th.thread_id)).toEqual([thread.thread_id]);
    expect((await alice.store.getItem(["notes"], "n1"))?.value).toEqual({ text: "alice's note" });
  });
});
