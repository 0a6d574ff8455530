import { defineConfig } from "vitest/config";

/** Suites written against the storage interface: they run once per backend. */
const STORAGE_CONTRACT = [
  "test/unit/storage-assistants.test.ts",
  "test/unit/storage-threads.test.ts",
  "test/unit/storage-runs.test.ts",
  "test/unit/storage-checkpoints.test.ts",
  "test/unit/storage-owner-scope.test.ts",
  "test/unit/storage-crons.test.ts",
  "test/unit/storage-webhooks.test.ts",
  "test/unit/store-items.test.ts",
  "test/unit/checkpointer.test.ts",
  "test/unit/storage-archive.test.ts",
];
/** API suites that also run with the server on PostgreSQL. */
const API_ON_POSTGRES = [
  "test/api/runs.test.ts",
  "test/api/runs-multitask.test.ts",
  "test/api/runs-keepalive.test.ts",
  "test/api/streams*.test.ts",
  "test/api/protocol.test.ts",
  "test/api/crons.test.ts",
  "test/api/webhooks.test.ts",
  "test/api/store.test.ts",
  "test/api/threads.test.ts",
  "test/api/auth-isolation.test.ts",
  "test/api/auth-tutorial.test.ts",
  "test/api/sdk-python.test.ts",
  "test/api/sdk-clients.test.ts",
  "test/api/tracing.test.ts",
  "test/api/startup-failure.test.ts",
];
/** Tests of the PostgreSQL backend itself (plans, migrations, lost connections). */
const POSTGRES_ONLY = ["test/unit/postgres-*.test.ts", "test/api/postgres-*.test.ts"];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // two cores: the server-driving suites are I/O bound, two workers keep them from starving
    maxWorkers: 2,
    // one PostgreSQL server for the run (test/setup/postgres.ts); tests clone a template database
    globalSetup: ["test/setup/postgres.ts"],
    projects: [
      {
        extends: true,
        test: { name: "lowdb", include: ["test/**/*.test.ts"], exclude: POSTGRES_ONLY },
      },
      {
        extends: true,
        test: {
          name: "postgres",
          include: [...STORAGE_CONTRACT, ...API_ON_POSTGRES, ...POSTGRES_ONLY],
          env: { LGTS_TEST_STORAGE: "postgres" },
        },
      },
    ],
  },
});
