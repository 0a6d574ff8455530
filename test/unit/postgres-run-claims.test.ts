/**
 * Claims racing over many pending runs: `FOR UPDATE SKIP LOCKED` must hand each run to exactly
 * one claimer. Runs are mostly leased at creation in the server, so the multi-process test seldom
 * races claims; here eight claimers on eight connections drain several rounds of runs at once.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseRunRequest } from "../../src/runtime/runs/request.js";
import { PostgresRunLeases } from "../../src/storage/postgres/run-leases.js";
import { PostgresStorage } from "../../src/storage/postgres/storage.js";
import { createTestDatabase, type TestDatabase } from "../support/postgres.js";

const CLAIMERS = 8;
const RUNS_PER_ROUND = 120;
const ROUNDS = 3;

let database: TestDatabase;
let storage: PostgresStorage;
let leases: PostgresRunLeases;
beforeAll(async () => {
  database = await createTestDatabase();
  storage = await PostgresStorage.open({ uri: database.uri, poolMax: CLAIMERS + 2 });
  leases = new PostgresRunLeases(storage.db);
});
afterAll(async () => {
  await storage?.close();
  await database?.drop();
});

async function pendingRuns(count: number): Promise<string[]> {
  const kwargs = parseRunRequest({ assistant_id: "a", input: {} }, { stateless: false }).kwargs;
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const thread = await storage.threads.create();
    const { run } = await storage.runs.create({ thread_id: thread.thread_id, assistant_id: "a", kwargs, multitask_strategy: "reject" });
    ids.push(run.run_id);
  }
  return ids;
}

/** One claimer: claims small batches until a claim finds nothing. */
async function drain(owner: string): Promise<string[]> {
  const claimed: string[] = [];
  for (;;) {
    const { runs } = await leases.claim(owner, 60_000, 3);
    if (runs.length === 0) return claimed;
    claimed.push(...runs.map((r) => r.run_id));
  }
}

describe("concurrent claims", () => {
  it("hand every pending run to exactly one claimer, round after round", async () => {
    for (let round = 1; round <= ROUNDS; round++) {
      const created = await pendingRuns(RUNS_PER_ROUND);
      const claims = (await Promise.all(Array.from({ length: CLAIMERS }, (_, i) => drain(`claimer-${round}-${i}:${i}`)))).flat();
      const times = new Map<string, number>();
      for (const id of claims) times.set(id, (times.get(id) ?? 0) + 1);
      expect(
        [...times.values()].filter((n) => n > 1),
        `round ${round}: runs claimed more than once`,
      ).toEqual([]);
      expect(new Set(claims)).toEqual(new Set(created));
      // and stored as running, once each, under attempt 1
      const { rows } = await storage.db.query<{ n: string }>(
        "SELECT count(*) AS n FROM runs WHERE run_id = ANY($1) AND status = 'running' AND attempt = 1",
        [created],
      );
      expect(Number(rows[0].n)).toBe(RUNS_PER_ROUND);
      for (const id of created) await storage.runs.end(id, { update: { status: "success" } });
    }
  });
});
