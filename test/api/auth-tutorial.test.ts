/**
 * The documentation's "make conversations private" Auth (test/fixtures/auth-tutorial: one
 * `auth.on("*")` adding `owner` to metadata and filtering on it), as LangGraph users start from:
 * each user runs every graph by its graph id, on a thread and stateless, as on the Platform;
 * other users' threads, runs, crons and assistants stay hidden; users copy their own threads.
 */
import path from "node:path";
import { Client } from "@langchain/langgraph-sdk";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT, startTestServer, type TestServer } from "../support/server.js";
import { eventually } from "../support/runs.js";

const CONFIG = path.join(REPO_ROOT, "test/fixtures/auth-tutorial/langgraph.json");

let t: TestServer;
const as = (user: string) => new Client({ apiUrl: t.url, defaultHeaders: { Authorization: `Bearer ${user}` }, callerOptions: { maxRetries: 0 } });

beforeAll(async () => {
  t = await startTestServer({ configPath: CONFIG });
});
afterAll(() => t?.dispose());
afterEach(() => expect(t.violations.splice(0)).toEqual([]));

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

describe("the tutorial's owner Auth", () => {
  it("lets each user run every graph by its graph id, on a thread and stateless, with every run endpoint", async () => {
    for (const user of ["alice", "bob"]) {
      const client = as(user);
      for (const graph of ["trivial", "interrupt"]) {
        const input = graph === "trivial" ? { value: 1 } : { topic: user };
        const thread = await client.threads.create();
        expect(thread.metadata).toMatchObject({ owner: user });
        const onThread: Json = await client.runs.wait(thread.thread_id, graph, { input });
        const stateless: Json = await client.runs.wait(null, graph, { input });
        for (const result of [onThread, stateless])
          expect(graph === "trivial" ? result.value : result.draft).toBe(graph === "trivial" ? 4 : `Draft about ${user}`);
        const streamed: string[] = [];
        for await (const chunk of client.runs.stream(null, graph, { input })) streamed.push(chunk.event);
        expect(streamed).not.toContain("error");
        const background = await client.runs.create(null, graph, { input });
        expect(background.metadata).toMatchObject({ owner: user });
        expect(await client.runs.createBatch([{ assistantId: graph, input }])).toHaveLength(1);
        const cron = await client.crons.create(graph, { schedule: "0 0 1 1 *", input });
        expect(cron.metadata).toMatchObject({ owner: user });
      }
    }
  });

  it("keeps other users' threads, runs, crons and assistants hidden, and the graphs' default assistants off the assistants endpoints", async () => {
    const alice = as("alice");
    const bob = as("bob");
    const thread = await alice.threads.create({ metadata: { topic: "secret" } });
    await alice.runs.wait(thread.thread_id, "trivial", { input: { value: 1 } });
    const [run] = await alice.runs.list(thread.thread_id);
    const mine = await alice.assistants.create({ graphId: "trivial", name: "alice's" });
    const cron = await alice.crons.createForThread(thread.thread_id, "trivial", { schedule: "0 0 1 1 *" });

    await expect(bob.threads.get(thread.thread_id)).rejects.toMatchObject({ status: 404 });
    expect((await bob.threads.search({ metadata: { topic: "secret" } })).length).toBe(0);
    await expect(bob.runs.get(thread.thread_id, run.run_id)).rejects.toMatchObject({ status: 404 });
    // a graph id runs anywhere one may create runs, which is not on alice's thread
    await expect(bob.runs.wait(thread.thread_id, "trivial", { input: { value: 1 } })).rejects.toMatchObject({ status: 404 });
    await expect(bob.threads.copy(thread.thread_id)).rejects.toMatchObject({ status: 404 });
    expect((await bob.crons.search()).map((c) => c.cron_id)).not.toContain(cron.cron_id);
    // an assistant a user created is theirs: nobody else runs it by its id
    await expect(bob.assistants.get(mine.assistant_id)).rejects.toMatchObject({ status: 404 });
    await expect(bob.runs.wait(null, mine.assistant_id, { input: { value: 1 } })).rejects.toMatchObject({ status: 404 });
    await expect(bob.crons.create(mine.assistant_id, { schedule: "0 0 1 1 *" })).rejects.toMatchObject({ status: 404 });
    expect(await alice.runs.wait(null, mine.assistant_id, { input: { value: 1 } })).toEqual({ value: 4 });
    // the default assistants are nobody's: runnable by graph id, hidden by the assistants endpoints
    await expect(alice.assistants.get("trivial")).rejects.toMatchObject({ status: 404 });
    expect((await alice.assistants.search({ limit: 100 })).map((a) => a.assistant_id)).toEqual([mine.assistant_id]);
  });

  it("lets users copy their own threads (the handler's owner is stored on the copy)", async () => {
    const alice = as("alice");
    const thread = await alice.threads.create({ metadata: { topic: "copy me" } });
    await alice.runs.wait(thread.thread_id, "trivial", { input: { value: 1 } });
    const copy = await alice.threads.copy(thread.thread_id);
    expect(copy.thread_id).not.toBe(thread.thread_id);
    expect(copy.metadata).toMatchObject({ owner: "alice", topic: "copy me" });
    expect((await alice.threads.getState(copy.thread_id)).values).toEqual({ value: 4 });
    expect(await alice.runs.wait(copy.thread_id, "trivial", { input: { value: 10 } })).toEqual({ value: 13 });
    await expect(as("bob").threads.get(copy.thread_id)).rejects.toMatchObject({ status: 404 });
  });

  it("gives the thread a stateless run or a cron firing keeps to the user who asked for it", async () => {
    const alice = as("alice");
    const kept = await alice.runs.create(null, "trivial", { input: { value: 1 }, onCompletion: "keep" } as never);
    await alice.runs.join(kept.thread_id, kept.run_id);
    expect((await alice.threads.get(kept.thread_id)).metadata).toMatchObject({ owner: "alice" });
    await expect(as("bob").threads.get(kept.thread_id)).rejects.toMatchObject({ status: 404 });

    const cron = await alice.crons.create("trivial", { schedule: "0 0 1 1 *", input: { value: 1 }, onRunCompleted: "keep" });
    const due = await t.server.services.storage.crons.update(cron.cron_id, { next_run_date: new Date(Date.now() - 1000).toISOString() });
    t.server.services.crons.nudge(due);
    // the fired run's new thread is alice's: she finds it among her threads
    const ofCron: Json = await eventually(async () => {
      for (const thread of await alice.threads.search({ limit: 100 })) {
        // a stateless run's temporary thread (an earlier test's) may be deleted since the search
        const runs: Json[] = await alice.runs.list(thread.thread_id).catch((error: { status?: number }) => {
          if (error.status === 404) return [];
          throw error;
        });
        if (runs.some((r) => r.metadata?.cron_id === cron.cron_id)) return thread;
      }
      return undefined;
    }, 20_000);
    expect(ofCron.metadata).toMatchObject({ owner: "alice" });
  });
});
