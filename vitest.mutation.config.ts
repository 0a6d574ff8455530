import { defineConfig } from "vitest/config";

/**
 * The tests `npm run test:mutation` (Stryker) runs against each mutant: the unit tests of the
 * mutated modules (storage, run engine, streams, auth). The API suites also cover them but start
 * servers, which makes every mutant cost seconds; they are left to `npm test`.
 */
export default defineConfig({
  test: {
    include: [
      "test/unit/storage-*.test.ts",
      "test/unit/runs-*.test.ts",
      "test/unit/stream-*.test.ts",
      "test/unit/cron-scheduler.test.ts",
      "test/unit/checkpointer*.test.ts",
      "test/unit/store-*.test.ts",
      "test/unit/auth*.test.ts",
    ],
    // SIGKILL crash tests run the source in child processes that Stryker's mutants never reach
    exclude: ["test/unit/storage-crash.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
