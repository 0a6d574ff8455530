import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { Client } from "@langchain/langgraph-sdk";
import { afterEach, describe, expect, it } from "vitest";
import { LowdbStorage } from "../../src/storage/lowdb/storage.js";
import { startGate } from "../support/gate.js";
import { REPO_ROOT, startTestServer, type TestServer } from "../support/server.js";
import { eventually, RUNS_CONFIG } from "../support/runs.js";
import { STREAMS_CONFIG } from "../support/streams.js";

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const done of cleanup.splice(0).reverse()) await done();
});

async function server(options: Parameters<typeof startTestServer>[0] = {}): Promise<TestServer> {
  const t = await startTestServer({ configPath: RUNS_CONFIG, ...options });
  cleanup.push(async () => {
    expect(t.violations).toEqual([]);
    await t.stop();
  });
  return t;
}

async function dataDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), "lgts-runs-"));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** `lgts serve` in a child process, so it can really crash (SIGKILL). */
async function childServer(dir: string): Promise<{ child: ChildProcess; client: Client }> {
  const child = spawn(process.execPath, [path.join(REPO_ROOT, "bin/lgts.js"), "serve", "--port", "0", "--config", RUNS_CONFIG, "--data-dir", dir], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  cleanup.push(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });
  const lines = createInterface({ input: child.stdout });
  for await (const line of lines) {
    const entry = JSON.parse(line) as { msg?: string; url?: string };
    if (entry.msg === "listening" && entry.url) return { child, client: new Client({ apiUrl: entry.url }) };
  }
  throw new Error("the child server exited before listening");
}

const slow = (steps: number, delayMs: number) => ({ input: { steps, delay_ms: delayMs } });

describe("run recovery", () => {
  it("retries a run cut by a crash from its last checkpoint", async () => {
    const dir = await dataDir();
    const { child, client } = await childServer(dir);
    const threadId = (await client.threads.create()).thread_id;
    const run = await client.runs.create(threadId, "slow", slow(6, 150));
    await eventually(async () => {
      const state = await client.threads.getState(threadId);
      return ((state.values as { completed?: number }).completed ?? 0) >= 2 ? true : undefined;
    });
    child.kill("SIGKILL");
    await new Promise((resolve) => child.once("exit", resolve));

    const t = await server({ dataDir: dir });
    const result = (await t.client.runs.join(threadId, run.run_id)) as { completed: number; log: string[] };
    expect(result.completed).toBe(6);
    expect(result.log).toEqual(["step 1", "step 2", "step 3", "step 4", "step 5", "step 6"]);
    expect(await t.server.services.storage.runs.get(run.run_id)).toMatchObject({ status: "success", attempt: 2 });
    // the retry continued from the checkpoint: it did not feed the input again
    const retried = await t.server.services.storage.checkpoints.list({
      thread_id: threadId,
      metadata: { run_id: run.run_id, run_attempt: 2, source: "input" },
    });
    expect(retried).toEqual([]);
    expect((await t.client.threads.get(threadId)).status).toBe("idle");
  });

  it("survives a graph's unhandled promise rejection", async () => {
    const { child, client } = await childServer(await dataDir());
    expect(await client.runs.wait(null, "stray", { input: {} })).toEqual({ done: true });
    // the rejection happened before the first answer: a crash would fail this second run
    expect(await client.runs.wait(null, "trivial", { input: { value: 1 } })).toEqual({ value: 4 });
    expect(child.exitCode).toBeNull();
  });

  it("marks a run that keeps dying as error instead of retrying it forever", async () => {
    const dir = await dataDir();
    let t = await server({ dataDir: dir });
    const threadId = (await t.client.threads.create()).thread_id;
    const run = await t.client.runs.create(threadId, "trivial", { input: { value: 1 }, afterSeconds: 60 });
    await t.stop();
    const storage = await LowdbStorage.open({ dataDir: dir });
    await storage.runs.update(run.run_id, { status: "running", attempt: 3 });
    await storage.close();

    t = await server({ dataDir: dir });
    const failed = await t.client.runs.get(threadId, run.run_id);
    expect(failed.status).toBe("error");
    expect(await t.client.runs.join(threadId, run.run_id)).toMatchObject({ __error__: { error: "RunAttemptsExhausted" } });
    expect((await t.client.threads.get(threadId)).status).toBe("error");
  });

  it("starts runs left pending by a stopped server", async () => {
    // the run's one step waits for the gate: however long the restart takes (a loaded machine),
    // the run cannot end before the test has seen its thread busy
    const gate = await startGate();
    cleanup.push(() => gate.close());
    const dir = await dataDir();
    let t = await server({ dataDir: dir, configPath: STREAMS_CONFIG });
    const threadId = (await t.client.threads.create()).thread_id;
    const run = await t.client.runs.create(threadId, "stepped", {
      input: { steps: 1 },
      config: { configurable: { gate_url: gate.url } },
      // due well after the stop, which follows at once
      afterSeconds: 3,
    });
    await t.stop();
    const storage = await LowdbStorage.open({ dataDir: dir });
    expect(await storage.runs.get(run.run_id)).toMatchObject({ status: "pending", attempt: 0 });
    await storage.close();

    t = await server({ dataDir: dir, configPath: STREAMS_CONFIG });
    expect((await t.client.threads.get(threadId)).status).toBe("busy");
    gate.open();
    expect(await t.client.runs.join(threadId, run.run_id)).toEqual({ steps: 1, completed: 1, log: ["step 1"] });
  });

  it("lets running runs finish within the shutdown grace period", async () => {
    const t = await server({ runs: { shutdownGraceMs: 5_000 } });
    const threadId = (await t.client.threads.create()).thread_id;
    const run = await t.client.runs.create(threadId, "slow", slow(3, 100));
    await eventually(async () => ((await t.client.runs.get(threadId, run.run_id)).status === "running" ? true : undefined));
    await t.stop();
    const reopened = await LowdbStorage.open({ dataDir: t.dataDir });
    expect((await reopened.runs.get(run.run_id)).status).toBe("success");
    await reopened.close();
  });

  it("suspends runs still running when the grace period ends, and resumes them at the next start", async () => {
    const dir = await dataDir();
    let t = await server({ dataDir: dir, runs: { shutdownGraceMs: 50 } });
    const threadId = (await t.client.threads.create()).thread_id;
    const run = await t.client.runs.create(threadId, "slow", slow(4, 150));
    await eventually(async () => {
      const values = (await t.client.threads.getState(threadId)).values as { completed?: number };
      return (values.completed ?? 0) >= 1 ? true : undefined;
    });
    await t.stop();
    const storage = await LowdbStorage.open({ dataDir: dir });
    expect(await storage.runs.get(run.run_id)).toMatchObject({ status: "pending", attempt: 1 });
    await storage.close();

    t = await server({ dataDir: dir });
    const result = (await t.client.runs.join(threadId, run.run_id)) as { completed: number; log: string[] };
    expect(result).toMatchObject({ completed: 4, log: ["step 1", "step 2", "step 3", "step 4"] });
  });

  it("leaves a suspended run resumable even though its waiting client was disconnected", async () => {
    const dir = await dataDir();
    let t = await server({ dataDir: dir, runs: { shutdownGraceMs: 50 } });
    const threadId = (await t.client.threads.create()).thread_id;
    // the client waits (on_disconnect cancel, the default) while the server shuts down
    const waiting = t.client.runs.wait(threadId, "slow", slow(4, 150)).catch(() => "disconnected");
    await eventually(async () => {
      const values = (await t.client.threads.getState(threadId)).values as { completed?: number } | null;
      return (values?.completed ?? 0) >= 1 ? true : undefined;
    });
    await t.stop();
    expect(await waiting).toBe("disconnected");
    const storage = await LowdbStorage.open({ dataDir: dir });
    const [run] = (await storage.runs.list(threadId)).items;
    expect(run).toMatchObject({ status: "pending" });
    await storage.close();

    t = await server({ dataDir: dir });
    const result = (await t.client.runs.join(threadId, run.run_id)) as { completed: number };
    expect(result.completed).toBe(4);
  });

  it("ends a run that exceeds the run timeout as timeout", async () => {
    const t = await server({ runs: { runTimeoutMs: 200 } });
    const threadId = (await t.client.threads.create()).thread_id;
    const result = await t.client.runs.wait(threadId, "slow", { ...slow(10, 100), raiseError: false });
    expect(result).toMatchObject({ __error__: { error: "TimeoutError", message: expect.stringMatching(/time limit/) } });
    const [run] = await t.client.runs.list(threadId);
    expect(run.status).toBe("timeout");
    expect((await t.client.threads.get(threadId)).status).toBe("error");
  });

  it("executes at most `concurrency` runs at once", async () => {
    const t = await server({ runs: { concurrency: 2 } });
    const threads = await Promise.all(Array.from({ length: 5 }, () => t.client.threads.create()));
    const runs = await Promise.all(threads.map((th) => t.client.runs.create(th.thread_id, "slow", slow(2, 60))));
    let most = 0;
    const seen = new Set<string>();
    while (seen.size < runs.length) {
      const states = await Promise.all(runs.map((r) => t.client.runs.get(r.thread_id, r.run_id)));
      most = Math.max(most, states.filter((s) => s.status === "running").length);
      for (const s of states) if (s.status === "success") seen.add(s.run_id);
    }
    expect(most).toBeLessThanOrEqual(2);
    expect(most).toBeGreaterThan(0);
  });
});
