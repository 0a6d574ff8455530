/**
 * Every statement the PostgreSQL repositories send can be answered from an index: the test
 * drives each repository method (with filters, sorts, scopes and pages), records every
 * statement with its parameters, and asks the planner for each one with sequential scans
 * disabled. A statement no index can serve still gets a Seq Scan (at a prohibitive cost), so any
 * Seq Scan in a plan is a lookup without an index.
 *
 * An index can still be read from end to end, so the store queries that have no key to look up
 * (namespace listings, searches without a prefix) are also run over 20,000 items, and the rows
 * their plans actually read are counted (EXPLAIN ANALYZE).
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PostgresStorage } from "../../src/storage/postgres/storage.js";
import { ARCHIVE_KINDS } from "../../src/storage/archive/kinds.js";
import type { ArchiveKind, Scope, Storage } from "../../src/storage/types.js";
import { createTestDatabase, type TestDatabase } from "../support/postgres.js";

let database: TestDatabase;
let storage: PostgresStorage;
const statements = new Map<string, readonly unknown[]>();

beforeAll(async () => {
  database = await createTestDatabase();
  storage = await PostgresStorage.open({ uri: database.uri, poolMax: 2 });
  storage.db.onQuery = (text, params) => {
    if (!/^\s*(BEGIN|COMMIT|ROLLBACK|SET |SELECT pg_advisory)/.test(text)) statements.set(text, params);
  };
});
afterAll(async () => {
  await storage?.close();
  await database?.drop();
});

const scope: Scope = {
  conditions: [
    { key: "owner", op: "$eq", value: "u1" },
    { key: "tags", op: "$contains", values: ["a"] },
  ],
};

/** Calls every repository method the way the server does. */
async function workload(s: Storage) {
  const a = await s.assistants.create({ graph_id: "g", metadata: { owner: "u1", tags: ["a"] } });
  await s.assistants.create({ assistant_id: a.assistant_id, graph_id: "g", if_exists: "do_nothing" }, scope);
  await s.assistants.get(a.assistant_id, scope);
  await s.assistants.patch(a.assistant_id, { metadata: { x: 1 } }, scope);
  await s.assistants.setLatest(a.assistant_id, 1, scope);
  await s.assistants.listVersions(a.assistant_id, { filter: { metadata: { x: 1 } }, limit: 5, offset: 1 }, scope);
  for (const sortBy of ["assistant_id", "graph_id", "name", "created_at", "updated_at"] as const) {
    await s.assistants.search({ sortBy, sortOrder: "asc", filter: { graph_id: "g" } }, scope);
  }
  await s.assistants.search({ filter: { name: "G", metadata: { owner: "u1" } } });
  await s.assistants.count({ graph_id: "g" }, scope);
  await s.assistants.count();

  const t = await s.threads.create({ metadata: { owner: "u1", tags: ["a"] }, ttl: { strategy: "delete", ttl: 5 } });
  await s.threads.create({ thread_id: t.thread_id, if_exists: "do_nothing" }, scope);
  await s.threads.get(t.thread_id, scope);
  await s.threads.patch(t.thread_id, { metadata: { y: 2 } }, scope);
  await s.threads.update(t.thread_id, { values: { v: 1 }, status: "idle" });
  for (const sortBy of ["thread_id", "status", "created_at", "updated_at", "state_updated_at"] as const) {
    await s.threads.search({ sortBy, sortOrder: "desc", limit: 3, offset: 1 }, scope);
  }
  await s.threads.search({ filter: { ids: [t.thread_id] } });
  await s.threads.search({ filter: { values: { v: 1 } } });
  await s.threads.search({ filter: { status: "idle", metadata: { y: 2 } } });
  await s.threads.count({ status: "busy" }, scope);
  await s.threads.count();
  await s.threads.expiring();

  const run = await s.runs.create(
    { thread_id: t.thread_id, assistant_id: a.assistant_id, kwargs: {} as never, multitask_strategy: "enqueue" },
    scope,
  );
  await s.runs.get(run.run.run_id, scope);
  await s.runs.getInThread(t.thread_id, run.run.run_id, scope);
  await s.runs.list(t.thread_id, { status: "pending", limit: 2 }, scope);
  await s.runs.active(t.thread_id);
  await s.runs.withStatus("pending", scope);
  await s.runs.updateIf(run.run.run_id, "pending", { status: "running", attempt: 1 });
  await s.runs.update(run.run.run_id, { status: "success", error: null, cancel_reason: null });
  await s.runs.end(run.run.run_id, { update: { status: "success" }, webhook: { url: "http://h/1", payload: (r) => ({ run_id: r.run_id }) } });
  const [delivery] = await s.webhooks.claim("p1", 5, 30_000);
  await s.webhooks.nextDueInMs();
  await s.webhooks.retryAfter(delivery.delivery_id, "p1", 0);
  await s.webhooks.claim("p1", 5, 30_000);
  await s.webhooks.complete(delivery.delivery_id, "p1");

  const cron = await s.crons.create({
    assistant_id: a.assistant_id,
    thread_id: t.thread_id,
    schedule: "* * * * *",
    timezone: null,
    end_time: null,
    payload: {},
    next_run_date: new Date().toISOString(),
    metadata: { owner: "u1", tags: ["a"] },
  });
  await s.crons.get(cron.cron_id, scope);
  await s.crons.update(cron.cron_id, { enabled: true, next_run_date: new Date().toISOString() }, scope);
  for (const sortBy of ["cron_id", "assistant_id", "thread_id", "next_run_date", "created_at", "updated_at"] as const) {
    await s.crons.search({ sortBy, filter: { enabled: true } }, scope);
  }
  await s.crons.search({ filter: { assistant_id: a.assistant_id, thread_id: t.thread_id, metadata: { owner: "u1" } } });
  await s.crons.count({}, scope);
  await s.crons.enabled();

  const key = { thread_id: t.thread_id, checkpoint_ns: "", checkpoint_id: "c1" };
  const checkpoint = { type: "json", data: "{}" };
  await s.checkpoints.put({
    ...key,
    parent_checkpoint_id: null,
    checkpoint,
    metadata: { run_id: run.run.run_id, step: 0 },
    created_at: new Date().toISOString(),
  });
  await s.checkpoints.putWrites(key, [{ task_id: "t", idx: 0, channel: "c", value: checkpoint, task_path: "", run_id: run.run.run_id }]);
  await s.checkpoints.get({ thread_id: t.thread_id, checkpoint_ns: "" });
  await s.checkpoints.get(key);
  await s.checkpoints.list({ thread_id: t.thread_id, checkpoint_ns: "", before: "c2", metadata: { step: 0 }, limit: 3 });
  await s.checkpoints.list({ thread_id: t.thread_id });
  await s.checkpoints.patchMetadata(key, { z: 1 });
  const copy = await s.threads.copy(t.thread_id, scope);
  await s.checkpoints.pruneKeepLatest(copy.thread_id);
  await s.checkpoints.deleteRun(t.thread_id, run.run.run_id);
  await s.runs.delete(run.run.run_id, scope);
  await s.crons.delete(cron.cron_id, scope);
  await s.threads.delete(copy.thread_id, scope);

  const item = {
    namespace: ["users", "u1"],
    key: "k",
    value: { owner: "u1", n: 3, tags: ["a"] },
    ttl_minutes: 5,
    vectors: [{ field: "$", vector: [1, 0] }],
  };
  await s.storeItems.put(item);
  await s.storeItems.put(item, scope);
  await s.storeItems.get(item.namespace, "k", { refreshTtl: true, scope });
  await s.storeItems.get(item.namespace, "k");
  await s.storeItems.search({
    namespacePrefix: ["users"],
    filter: [
      { field: "n", op: "$gte", operand: 2 },
      { field: "owner", op: "$in", operand: ["u1"] },
    ],
    queryVector: [1, 1],
    refreshTtl: true,
    scope,
  });
  await s.storeItems.search({ namespacePrefix: [] });
  await s.storeItems.search({
    namespacePrefix: [],
    filter: [{ field: "owner", op: "$eq", operand: "u1" }],
    queryVector: [1, 1],
    limit: 3,
    offset: 1,
  });
  await s.storeItems.listNamespaces({ prefix: ["users", "*"], suffix: ["u1"], maxDepth: 2, scope });
  await s.storeItems.listNamespaces({ maxDepth: 1 });
  await s.storeItems.listNamespaces();
  await s.storeItems.nextExpiry();
  await s.storeItems.deleteExpired();
  // export and import (lgts export/import/migrate): every kind read a record at a time (the
  // first page and the next ones), then restored over itself
  const archived = await s.archive.snapshot(async (view) => {
    await view.counts();
    const all: Array<[ArchiveKind, unknown[]]> = [];
    for (const kind of ARCHIVE_KINDS) {
      const records: unknown[] = [];
      for await (const batch of view.records(kind, 1)) records.push(...batch);
      all.push([kind, records]);
    }
    return all;
  });
  for (const [kind, records] of archived) await s.archive.restore(kind, records as never[], { replace: true });
  await s.storeItems.delete(item.namespace, "k", scope);
  await s.assistants.delete(a.assistant_id, scope);
}

/** Node types of a JSON plan, depth first. */
function nodes(plan: { "Node Type": string; "Relation Name"?: string; Plans?: unknown[] }): string[] {
  const own = `${plan["Node Type"]}${plan["Relation Name"] ? ` on ${plan["Relation Name"]}` : ""}`;
  return [own, ...((plan.Plans ?? []) as Array<Parameters<typeof nodes>[0]>).flatMap(nodes)];
}

describe("PostgreSQL query plans", () => {
  it("serves every statement of every repository method from an index", async () => {
    await workload(storage);
    expect(statements.size).toBeGreaterThan(60);
    const client = new pg.Client({ connectionString: database.uri });
    await client.connect();
    try {
      await client.query("SET enable_seqscan = off");
      const seqScans = async (text: string, params: readonly unknown[]) => {
        const { rows } = await client.query(`EXPLAIN (FORMAT JSON) ${text}`, params as unknown[]);
        const plan = (rows[0] as { "QUERY PLAN": Array<{ Plan: Parameters<typeof nodes>[0] }> })["QUERY PLAN"][0].Plan;
        return nodes(plan).filter((n) => n.startsWith("Seq Scan"));
      };
      // the check itself: a lookup on a column without an index is seen
      expect(await seqScans("SELECT * FROM crons WHERE schedule = $1", ["* * * * *"])).toEqual(["Seq Scan on crons"]);
      const scans: string[] = [];
      for (const [text, params] of statements) {
        const seq = await seqScans(text, params);
        if (seq.length) scans.push(`${seq.join(", ")}: ${text.replace(/\s+/g, " ").slice(0, 160)}`);
      }
      expect(scans).toEqual([]);
    } finally {
      await client.end();
    }
  });
});

/** A node of an EXPLAIN (ANALYZE, FORMAT JSON) plan, as far as the row count needs it. */
interface AnalyzedNode {
  "Relation Name"?: string;
  "Actual Rows": number;
  "Actual Loops": number;
  "Rows Removed by Filter"?: number;
  "Rows Removed by Index Recheck"?: number;
  Plans?: AnalyzedNode[];
}

/** Rows of store_items and store_vectors a plan read: returned by its scans or removed by their filters. */
function rowsRead(node: AnalyzedNode): number {
  const own = ["store_items", "store_vectors"].includes(node["Relation Name"] ?? "")
    ? (node["Actual Rows"] + (node["Rows Removed by Filter"] ?? 0) + (node["Rows Removed by Index Recheck"] ?? 0)) * node["Actual Loops"]
    : 0;
  return own + (node.Plans ?? []).reduce((sum, child) => sum + rowsRead(child), 0);
}

describe("PostgreSQL store queries over many items", () => {
  const TENANTS = 200;
  const USERS = 10;
  const KEYS = 10;
  const ITEMS = TENANTS * USERS * KEYS;

  /** Items in namespaces ["tenant-<t>", "user-<u>"], each with a 3-dimensional vector; `owner` is one namespace's. */
  async function seed(client: pg.Client) {
    await client.query(`INSERT INTO store_items (item_id, namespace, ns_path, key, value, created_at, updated_at, ttl_minutes, expires_at)
      SELECT format('[["tenant-%s","user-%s"],"k%s"]', t, u, k), ARRAY['tenant-' || t, 'user-' || u], format('tenant-%s/user-%s/', t, u),
        'k' || k, jsonb_build_object('owner', format('t%s-u%s', t, u), 'n', k), now() - k * interval '1 minute', now() - random() * interval '1 day', NULL, NULL
      FROM generate_series(1, ${TENANTS}) t, generate_series(1, ${USERS}) u, generate_series(1, ${KEYS}) k`);
    await client.query(`INSERT INTO store_vectors (item_id, position, field, dims, vector, norm)
      SELECT item_id, 0, '$', 3, ARRAY[1, random(), random()], 1 FROM store_items WHERE ns_path LIKE 'tenant-%'`);
    await client.query("ANALYZE store_items; ANALYZE store_vectors");
  }

  /** Rows read by each statement `call` sends, run (and rolled back) under EXPLAIN ANALYZE. */
  async function measure(client: pg.Client, call: () => Promise<unknown>): Promise<number> {
    const sent: Array<[string, readonly unknown[]]> = [];
    storage.db.onQuery = (text, params) => void sent.push([text, params]);
    try {
      await call();
    } finally {
      storage.db.onQuery = undefined;
    }
    let rows = 0;
    for (const [text, params] of sent) {
      await client.query("BEGIN");
      try {
        const { rows: out } = await client.query(`EXPLAIN (ANALYZE, FORMAT JSON) ${text}`, params as unknown[]);
        rows += rowsRead((out[0] as { "QUERY PLAN": Array<{ Plan: AnalyzedNode }> })["QUERY PLAN"][0].Plan);
      } finally {
        await client.query("ROLLBACK");
      }
    }
    return rows;
  }

  it("lists namespaces and searches without a prefix reading about the rows they return, not every item", async () => {
    const client = new pg.Client({ connectionString: database.uri });
    await client.connect();
    try {
      await seed(client);
      const items = storage.storeItems;
      const read = async (call: () => Promise<unknown[]>, expected: number) => {
        let returned = -1;
        const rows = await measure(client, async () => (returned = (await call()).length));
        expect(returned).toBe(expected);
        return rows;
      };
      // the check itself: an unbounded search reads every item
      expect(await read(() => items.search({ namespacePrefix: [], limit: ITEMS + 10 }), ITEMS)).toBeGreaterThanOrEqual(ITEMS);

      // a skip scan: one index descent per namespace listed (offset included)
      expect(await read(() => items.listNamespaces({ limit: 10 }), 10)).toBeLessThan(50);
      expect(await read(() => items.listNamespaces({ limit: 10, offset: 20 }), 10)).toBeLessThan(100);
      expect(await read(() => items.listNamespaces({ maxDepth: 1, limit: 10 }), 10)).toBeLessThan(50);
      expect(await read(() => items.listNamespaces({ prefix: ["tenant-5"], limit: 5 }), 5)).toBeLessThan(50);
      expect(await read(() => items.listNamespaces({ prefix: ["tenant-5"], maxDepth: 2, limit: 3, offset: 2 }), 3)).toBeLessThan(50);
      expect(await read(() => items.listNamespaces({ prefix: ["*", "user-3"], maxDepth: 1, limit: 3 }), 3)).toBeLessThan(500);

      // newest first stops after the page; a filter equality goes through the values' GIN index
      expect(await read(() => items.search({ namespacePrefix: [], limit: 10 }), 10)).toBeLessThan(50);
      const owned = [{ field: "owner", op: "$eq" as const, operand: "t7-u3" }];
      expect(await read(() => items.search({ namespacePrefix: [], filter: owned, limit: 5 }), 5)).toBeLessThan(50);
      const either = [{ field: "owner", op: "$in" as const, operand: ["t7-u3", "t8-u4"] }];
      expect(await read(() => items.search({ namespacePrefix: [], filter: either, limit: 20 }), 20)).toBeLessThan(100);

      // ranking under a prefix scores that prefix's items (USERS * KEYS) and their vectors only
      const prefixed = await read(() => items.search({ namespacePrefix: ["tenant-5"], queryVector: [1, 0, 0], limit: 10 }), 10);
      expect(prefixed).toBeLessThanOrEqual(2 * USERS * KEYS + 50);
      // Without a prefix, ranking reads every stored vector of the query's dimension: cosine over
      // double precision[] has no index to search by (pgvector's HNSW would; see vector-ranking.ts),
      // and the issue accepts cosine computed in SQL. It is at least no worse than that.
      const everywhere = await read(() => items.search({ namespacePrefix: [], queryVector: [1, 0, 0], limit: 10 }), 10);
      expect(everywhere).toBeLessThanOrEqual(3 * ITEMS);
    } finally {
      await client.end();
    }
  });
});
