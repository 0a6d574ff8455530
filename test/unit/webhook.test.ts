/**
 * The webhook dispatcher over the stored outbox: delivers each owed webhook once, retries
 * failures with backoff, gives up after its attempts, and delivers what a process that died
 * (or shut down mid-attempt) left owed.
 */
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { LocalCluster } from "../../src/runtime/cluster.js";
import { parseRunRequest } from "../../src/runtime/runs/request.js";
import { WebhookDispatcher } from "../../src/runtime/runs/webhook.js";
import type { Storage } from "../../src/storage/types.js";
import { eventually, webhookReceiver } from "../support/runs.js";
import { tempStoragePerTest } from "./storage-helpers.js";

const open = tempStoragePerTest();
const logger = pino({ level: "silent" });

/** Stores the end of a new run, owing a webhook to `url`; returns the run id. */
async function endedRun(storage: Storage, url: string): Promise<string> {
  const thread = await storage.threads.create();
  const kwargs = parseRunRequest({ assistant_id: "a", input: {}, webhook: url }, { stateless: false }).kwargs;
  const { run } = await storage.runs.create({ thread_id: thread.thread_id, assistant_id: "a", kwargs, multitask_strategy: "reject" });
  await storage.runs.end(run.run_id, { update: { status: "success" }, webhook: { url, payload: (r) => ({ run_id: r.run_id, status: r.status }) } });
  return run.run_id;
}

const owed = async (storage: Storage) => ((await storage.webhooks.nextDueInMs()) === null ? undefined : true);
const settled = async (storage: Storage) => ((await storage.webhooks.nextDueInMs()) === null ? true : undefined);

describe("webhook dispatcher", () => {
  it("delivers an owed webhook once, retrying a failure with backoff", async () => {
    const { storage } = await open();
    const receiver = await webhookReceiver({ fail: 1 });
    const dispatcher = new WebhookDispatcher(storage.webhooks, "p1", logger, { initialBackoffMs: 50 });
    try {
      await dispatcher.start(new LocalCluster());
      const runId = await endedRun(storage, receiver.url);
      dispatcher.wake();
      expect(await receiver.next()).toEqual({ run_id: runId, status: "success" });
      await eventually(() => settled(storage), 5_000, "the delivery to be completed");
      expect(receiver.received).toHaveLength(1);
    } finally {
      await dispatcher.close(1_000);
      await receiver.close();
    }
  });

  it("sends the same Idempotency-Key with every attempt of a delivery, and another one for another run's", async () => {
    const { storage } = await open();
    const receiver = await webhookReceiver({ fail: 2 });
    const dispatcher = new WebhookDispatcher(storage.webhooks, "p1", logger, { initialBackoffMs: 20 });
    try {
      await dispatcher.start(new LocalCluster());
      await endedRun(storage, receiver.url);
      dispatcher.wake();
      await receiver.next();
      expect(receiver.keys).toHaveLength(3); // two failed attempts, then the delivery
      expect(new Set(receiver.keys).size).toBe(1);
      expect(receiver.keys[0]).toMatch(/^[0-9a-f-]{36}$/);
      await endedRun(storage, receiver.url);
      dispatcher.wake();
      await receiver.next();
      expect(receiver.keys).toHaveLength(4);
      expect(receiver.keys[3]).not.toBe(receiver.keys[0]);
    } finally {
      await dispatcher.close(1_000);
      await receiver.close();
    }
  });

  it("gives up after its attempts (logged), leaving nothing owed", async () => {
    const { storage } = await open();
    const receiver = await webhookReceiver({ fail: 100 });
    const lines: string[] = [];
    const dispatcher = new WebhookDispatcher(storage.webhooks, "p1", pino({ level: "warn" }, { write: (l: string) => void lines.push(l) }), {
      attempts: 2,
      initialBackoffMs: 20,
    });
    try {
      await dispatcher.start(new LocalCluster());
      await endedRun(storage, receiver.url);
      dispatcher.wake();
      await eventually(() => settled(storage), 5_000, "the delivery to be given up");
      expect(lines.join("")).toMatch(/webhook delivery failed/);
      expect(receiver.received).toEqual([]);
    } finally {
      await dispatcher.close(1_000);
      await receiver.close();
    }
  });

  it("delivers, at start, what a process that died owed; a claim it held lapses first", async () => {
    const temp = await open();
    const receiver = await webhookReceiver();
    const unclaimed = await endedRun(temp.storage, receiver.url);
    const cut = await endedRun(temp.storage, receiver.url);
    // the dead process had started the second one: its claim lapses before anyone retries it
    const [claimed] = await temp.storage.webhooks.claim("dead", 1, 300);
    expect([unclaimed, cut]).toContain(claimed.run_id);
    await temp.storage.close();
    const storage = await temp.reopen();
    const survivor = new WebhookDispatcher(storage.webhooks, "survivor", logger);
    try {
      await survivor.start(new LocalCluster());
      await eventually(() => settled(storage), 10_000, "both deliveries");
      expect((receiver.received as Array<{ run_id: string }>).map((b) => b.run_id).sort()).toEqual([unclaimed, cut].sort());
    } finally {
      await survivor.close(1_000);
      await receiver.close();
    }
  });

  it("a shutdown cuts an attempt in flight: the delivery stays owed for the next process", async () => {
    const { storage } = await open();
    let answer: () => void = () => {};
    const { createServer } = await import("node:http");
    const hanging = createServer((_req, res) => void (answer = () => res.end()));
    await new Promise<void>((resolve) => hanging.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(hanging.address() as { port: number }).port}/hook`;
    const dispatcher = new WebhookDispatcher(storage.webhooks, "p1", logger);
    try {
      await dispatcher.start(new LocalCluster());
      await endedRun(storage, url);
      dispatcher.wake();
      await eventually(async () => ((await storage.webhooks.nextDueInMs())! > 1_000 ? true : undefined), 5_000, "the attempt to start");
      await dispatcher.close(50);
      expect(await owed(storage)).toBe(true);
    } finally {
      answer();
      hanging.closeAllConnections();
      hanging.close();
    }
  });
});
