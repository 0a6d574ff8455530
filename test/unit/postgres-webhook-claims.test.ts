/**
 * Webhook delivery claims across processes follow the rule of run leases: a claim past its time
 * is taken over only from a process that died (its worker lock is gone), never from a live one
 * that is slow to finish its attempt, so the receiver gets each attempt once. Each "process" is a
 * worker id whose worker lock is held by a LISTEN connection of its own, as in the server.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalCluster } from "../../src/runtime/cluster.js";
import { WebhookDispatcher } from "../../src/runtime/runs/webhook.js";
import { parseRunRequest } from "../../src/runtime/runs/request.js";
import { PostgresStorage } from "../../src/storage/postgres/storage.js";
import type { WebhookOutbox } from "../../src/storage/types.js";
import { createTestDatabase, type TestDatabase } from "../support/postgres.js";
import { TestWorkers } from "../support/postgres-workers.js";
import { eventually } from "../support/runs.js";

const logger = pino({ level: "silent" });
let database: TestDatabase;
let storage: PostgresStorage;
let workers: TestWorkers;

beforeAll(async () => {
  database = await createTestDatabase();
  storage = await PostgresStorage.open({ uri: database.uri, poolMax: 4 });
  workers = new TestWorkers(database.uri, storage);
});
afterAll(async () => {
  await workers?.closeAll();
  await storage?.close();
  await database?.drop();
});

/** A run's end that owes a delivery to `url`: the delivery's id. */
async function owedDelivery(url = "http://127.0.0.1:9/hook"): Promise<string> {
  const thread = await storage.threads.create();
  const kwargs = parseRunRequest({ assistant_id: "a", input: {} }, { stateless: false }).kwargs;
  const { run } = await storage.runs.create({ thread_id: thread.thread_id, assistant_id: "a", kwargs, multitask_strategy: "reject" });
  await storage.runs.end(run.run_id, { update: { status: "success" }, webhook: { url, payload: (r) => ({ run_id: r.run_id }) } });
  const { rows } = await storage.db.query<{ delivery_id: string }>("SELECT delivery_id FROM webhook_deliveries WHERE run_id = $1", [run.run_id]);
  return rows[0].delivery_id;
}

async function lapsed(deliveryId: string, withinMs = 5_000): Promise<void> {
  await eventually(
    async () => {
      const { rows } = await storage.db.query<{ lapsed: boolean }>(
        "SELECT claimed_until < now() AS lapsed FROM webhook_deliveries WHERE delivery_id = $1",
        [deliveryId],
      );
      return rows[0]?.lapsed ? true : undefined;
    },
    withinMs,
    "the claim to lapse",
  );
}

describe("PostgreSQL webhook claims", () => {
  it("takes a lapsed claim only from a process that died, or back by its own process once it no longer attempts it", async () => {
    const [slow, other] = [await workers.start("hook-slow:1"), await workers.start("hook-other:2")];
    const id = await owedDelivery();
    expect((await storage.webhooks.claim(slow.workerId, 10, 100)).map((d) => d.delivery_id)).toEqual([id]);
    await lapsed(id);
    // the slow process is alive: its attempt is not repeated by another process
    expect(await storage.webhooks.claim(other.workerId, 10, 60_000)).toEqual([]);
    // nor by itself while it still attempts it
    expect(await storage.webhooks.claim(slow.workerId, 10, 100, [id])).toEqual([]);
    // nobody waits on the lapse with a busy loop: looked at again in a few seconds
    const next = (await storage.webhooks.nextDueInMs(other.workerId, []))!;
    expect(next).toBeGreaterThan(500);
    expect(next).toBeLessThanOrEqual(5_000);
    // the process that claims it: nothing to wake for while it attempts it
    expect(await storage.webhooks.nextDueInMs(slow.workerId, [id])).toBeNull();
    // its own attempt ended without recording the outcome (its database write failed): it takes it back
    expect((await storage.webhooks.claim(slow.workerId, 10, 100, [])).map((d) => [d.delivery_id, d.attempts])).toEqual([[id, 2]]);
    await lapsed(id);

    await slow.die();
    const taken = await eventually(
      async () => {
        const claimed = await storage.webhooks.claim(other.workerId, 10, 60_000);
        return claimed.length > 0 ? claimed : undefined;
      },
      5_000,
      "the dead process's claim to be taken over",
    );
    expect(taken.map((d) => [d.delivery_id, d.attempts, d.claimed_by])).toEqual([[id, 3, other.workerId]]);
    expect(await storage.webhooks.complete(id, other.workerId)).toBe(true);
  });

  it("sends a delivery once when the process attempting it is slow to record its outcome past its claim", async () => {
    const posts: string[] = [];
    const receiver = createServer((req, res) => {
      posts.push(String(req.headers["idempotency-key"]));
      res.statusCode = 204;
      res.end();
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    const [slow, other] = [await workers.start("hook-slow:3"), await workers.start("hook-other:4")];
    // the slow process's pool stalls once its POST got its answer: the completion waits
    let release: () => void = () => {};
    const stalled = new Promise<void>((resolve) => (release = resolve));
    const slowOutbox: WebhookOutbox = Object.assign(Object.create(storage.webhooks) as WebhookOutbox, {
      complete: async (deliveryId: string, owner: string) => {
        await stalled;
        return storage.webhooks.complete(deliveryId, owner);
      },
    });
    // an attempt times out after 1 s (the receiver answers well within it): its claim lapses 6 s after it starts
    const slowDispatcher = new WebhookDispatcher(slowOutbox, slow.workerId, logger, { timeoutMs: 1_000 });
    const otherDispatcher = new WebhookDispatcher(storage.webhooks, other.workerId, logger, { timeoutMs: 1_000 });
    try {
      await slowDispatcher.start(new LocalCluster());
      const id = await owedDelivery(url);
      slowDispatcher.wake();
      await eventually(async () => (posts.length > 0 ? true : undefined), 5_000, "the first POST");
      await otherDispatcher.start(new LocalCluster());
      // the other process looks when the claim lapses (its alarm), and again on a notice: the slow one lives
      await eventually(
        async () => {
          if (posts.length > 1) return true;
          const { rows } = await storage.db.query<{ long: boolean }>(
            "SELECT claimed_until < now() - interval '500 ms' AS long FROM webhook_deliveries WHERE delivery_id = $1",
            [id],
          );
          if (rows[0]?.long) otherDispatcher.wake();
          return rows[0]?.long ? true : undefined;
        },
        15_000,
        "the claim to be lapsed for a while",
      );
      expect(posts).toEqual([id]);
      release();
      await eventually(
        async () => {
          const { rowCount } = await storage.db.query("SELECT 1 FROM webhook_deliveries WHERE delivery_id = $1", [id]);
          return rowCount === 0 ? true : undefined;
        },
        5_000,
        "the delivery to be completed",
      );
      expect(posts).toEqual([id]);
    } finally {
      release();
      await slowDispatcher.close(0);
      await otherDispatcher.close(0);
      receiver.closeAllConnections();
      receiver.close();
    }
  }, 30_000);
});
