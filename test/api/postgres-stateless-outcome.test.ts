/**
 * A stateless run that ends before its creator's wait is in place (on PostgreSQL the wait's
 * subscription takes a round trip, which a loaded machine stretches): the run's stored row is
 * gone with its temporary thread, but its end is still in its stream. `/runs/wait` answered
 * `404 Run not found` then; the creator's wait reads the end from the stream.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NotFoundError } from "../../src/storage/errors.js";
import type { Run } from "../../src/storage/types.js";
import { createTestDatabase, type TestDatabase } from "../support/postgres.js";
import { eventually, RUNS_CONFIG } from "../support/runs.js";
import { startTestServer, type TestServer } from "../support/server.js";

let database: TestDatabase;
let t: TestServer;
beforeAll(async () => {
  database = await createTestDatabase();
  t = await startTestServer({ configPath: RUNS_CONFIG, database });
});
afterAll(async () => {
  await t?.dispose();
});

describe("the outcome of a stateless run that ended before the wait", () => {
  it("is read from its stream by the run's creator", async () => {
    const { services } = t.server;
    const run = await t.client.runs.create(null, "trivial", { input: { value: 1 } });
    // ended, and its temporary thread (with the run's row) deleted
    await eventually(
      async () =>
        await services.storage.runs.get(run.run_id).then(
          () => undefined,
          (error: unknown) => error instanceof NotFoundError || undefined,
        ),
      10_000,
      "the temporary thread to go",
    );
    // the run as its creator holds it (only its id is read once it has ended)
    const stored = run as unknown as Run;
    await expect(services.runs.outcome(stored, undefined, undefined, true)).resolves.toMatchObject({ status: "success", values: { value: 4 } });
    // a caller that did not create it learns only that it is gone
    await expect(services.runs.outcome(stored)).rejects.toBeInstanceOf(NotFoundError);
  });
});
