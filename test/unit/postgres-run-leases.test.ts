/**
 * Run leases across processes: a run is taken over only from a process that died, never from a
 * live one that renews late (its event loop or its pool stalled under load), and an execution
 * whose run was taken over anyway can no longer store the run's events or end. Each "process" is
 * a worker id whose worker lock is held by a LISTEN connection of its own, as in the server.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseRunRequest } from "../../src/runtime/runs/request.js";
import { RunTakenOverError } from "../../src/storage/errors.js";
import { insertRunEvents } from "../../src/storage/postgres/run-events.js";
import { PostgresRunLeases } from "../../src/storage/postgres/run-leases.js";
import { PostgresStorage } from "../../src/storage/postgres/storage.js";
import { createTestDatabase, type TestDatabase } from "../support/postgres.js";
import { TestWorkers } from "../support/postgres-workers.js";
import { eventually } from "../support/runs.js";

const LEASE_MS = 100;
const EXHAUSTED = { error: "RunAttemptsExhausted", message: "too many attempts" };
const OUTCOME = JSON.stringify({ status: "error", values: null, error: EXHAUSTED });
let database: TestDatabase;
let storage: PostgresStorage;
let leases: PostgresRunLeases;
let workers: TestWorkers;

beforeAll(async () => {
  database = await createTestDatabase();
  storage = await PostgresStorage.open({ uri: database.uri, poolMax: 4 });
  workers = new TestWorkers(database.uri, storage);
  leases = new PostgresRunLeases(storage.db);
});
afterAll(async () => {
  await workers?.closeAll();
  await storage?.close();
  await database?.drop();
});

/** A pending run claimed by `owner`, whose lease has expired since (the owner did not renew it). */
async function expiredRunOf(owner: string) {
  const thread = await storage.threads.create();
  const kwargs = parseRunRequest({ assistant_id: "a", input: {} }, { stateless: false }).kwargs;
  const { run } = await storage.runs.create({ thread_id: thread.thread_id, assistant_id: "a", kwargs, multitask_strategy: "reject" });
  const claimed = await leases.claim(owner, LEASE_MS, 10);
  expect(claimed.runs.map((r) => r.run_id)).toEqual([run.run_id]);
  await eventually(
    async () => {
      const { rows } = await storage.db.query<{ expired: boolean }>("SELECT lease_expires_at < now() AS expired FROM runs WHERE run_id = $1", [
        run.run_id,
      ]);
      return rows[0].expired ? true : undefined;
    },
    5_000,
    "the lease to expire",
  );
  return claimed.runs[0];
}

const statusOf = async (runId: string) => (await storage.runs.get(runId)).status;

describe("PostgreSQL run leases", () => {
  it("counts only cut executions against a dead process's run's attempts, not handoffs at shutdown", async () => {
    const [other, dead] = [await workers.start("other:8"), await workers.start("dead:9")];
    const handedBack = await expiredRunOf(dead.workerId);
    const cut = await expiredRunOf(dead.workerId);
    // both on their third execution; two of the first one's were handed back by stopping servers
    await storage.db.query("UPDATE runs SET attempt = 3, handoffs = 2 WHERE run_id = $1", [handedBack.run_id]);
    await storage.db.query("UPDATE runs SET attempt = 3 WHERE run_id = $1", [cut.run_id]);
    await dead.die();
    const reaped = await eventually(
      async () => {
        const rows = await leases.reapExpired(other.workerId, [], 3, EXHAUSTED, OUTCOME);
        return rows.length > 0 ? rows : undefined;
      },
      5_000,
      "the dead process's runs to be reaped",
    );
    expect(Object.fromEntries(reaped.map((r) => [r.run_id, r.status]))).toEqual({ [handedBack.run_id]: "pending", [cut.run_id]: "error" });
    await storage.runs.end(handedBack.run_id, { update: { status: "success" } });
  });

  it("keeps a live process's run whose lease expired, and takes over a dead process's run", async () => {
    const [slow, other] = [await workers.start("slow:1"), await workers.start("other:2")];
    const run = await expiredRunOf(slow.workerId);
    // the slow process is alive (its session holds its lock): its run stays with it
    expect(await leases.reapExpired(other.workerId, [], 3, EXHAUSTED, OUTCOME)).toEqual([]);
    expect(await statusOf(run.run_id)).toBe("running");
    // and its late renewal still holds it
    expect(await leases.renew(slow.workerId, LEASE_MS, [run.run_id])).toEqual(new Set([run.run_id]));

    const dead = await workers.start("dead:3");
    const orphan = await expiredRunOf(dead.workerId);
    await dead.die(); // its connection closes, as when the process is killed
    const reaped = await eventually(
      async () => {
        const rows = await leases.reapExpired(other.workerId, [], 3, EXHAUSTED, OUTCOME);
        return rows.length > 0 ? rows : undefined;
      },
      5_000,
      "the dead process's run to be taken over",
    );
    expect(reaped.map((r) => [r.run_id, r.status])).toEqual([[orphan.run_id, "pending"]]);
    expect(await statusOf(run.run_id)).toBe("running");
    await storage.runs.end(run.run_id, { update: { status: "success" } });
    await storage.runs.end(orphan.run_id, { update: { status: "success" } });
  });

  it("takes back a process's own expired runs it no longer executes, not those it executes", async () => {
    const self = await workers.start("self:4");
    const [executing, orphan] = [await expiredRunOf(self.workerId), await expiredRunOf(self.workerId)];
    const reaped = await leases.reapExpired(self.workerId, [executing.run_id], 3, EXHAUSTED, OUTCOME);
    expect(reaped.map((r) => [r.run_id, r.status])).toEqual([[orphan.run_id, "pending"]]);
    await storage.runs.update(orphan.run_id, { status: "interrupted" });
    // a claim of its own on its way: it cannot tell its orphans
    const later = await expiredRunOf(self.workerId);
    expect(await leases.reapExpired(self.workerId, null, 3, EXHAUSTED, OUTCOME)).toEqual([]);
    for (const run of [executing, later]) await storage.runs.end(run.run_id, { update: { status: "success" } });
  });

  it("refuses the events and the end of an execution whose run was taken over", async () => {
    const [first, second] = [await workers.start("first:5"), await workers.start("second:6")];
    const run = await expiredRunOf(first.workerId);
    await first.die();
    await eventually(
      async () => ((await leases.reapExpired(second.workerId, [], 3, EXHAUSTED, OUTCOME)).length > 0 ? true : undefined),
      5_000,
      "the takeover",
    );
    const retaken = await leases.claim(second.workerId, 60_000, 10);
    expect(retaken.runs.map((r) => [r.run_id, r.attempt])).toEqual([[run.run_id, 2]]);

    const batch = (seq: number, mode: string) => ({
      threadId: run.thread_id,
      resumable: false,
      expiresSeconds: 30,
      rows: [{ seq, mode, ns: "[]", data: "{}", checkpoint_id: null }],
    });
    // the first execution (attempt 1) is still going in a process that lost its session
    expect(await insertRunEvents(storage.db, run.run_id, { ...batch(1, "metadata"), attempt: 1 })).toBe(false);
    await expect(storage.runs.end(run.run_id, { update: { status: "success" }, events: { ...batch(2, "__end__"), attempt: 1 } })).rejects.toThrow(
      RunTakenOverError,
    );
    // the second one (attempt 2) writes and ends
    expect(await insertRunEvents(storage.db, run.run_id, { ...batch(1, "metadata"), attempt: 2 })).toBe(true);
    await storage.runs.end(run.run_id, { update: { status: "success" }, events: { ...batch(2, "__end__"), attempt: 2 } });
    const { rows } = await storage.db.query<{ seq: number; mode: string }>("SELECT seq, mode FROM run_events WHERE run_id = $1 ORDER BY seq", [
      run.run_id,
    ]);
    expect(rows).toEqual([
      { seq: 1, mode: "metadata" },
      { seq: 2, mode: "__end__" },
    ]);
    expect(await storage.runs.get(run.run_id)).toMatchObject({ status: "success", attempt: 2 });
  });
});
