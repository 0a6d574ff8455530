import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

/**
 * The tests Stryker runs against mutants of the run engine's queue, broker and request parsing and
 * of the stream translation: their unit tests. The executor and engine wiring are exercised by
 * `runs-engine.test.ts` and the API suites, which run graphs and start servers: seconds per
 * mutant, too slow for this machine (see test/mutation/SCORES.md).
 */
export default defineConfig({
  test: {
    root: fileURLToPath(new URL("../..", import.meta.url)),
    include: [
      "test/unit/runs-queue.test.ts",
      "test/unit/runs-broker.test.ts",
      "test/unit/runs-broker-streams.test.ts",
      "test/unit/runs-request.test.ts",
      "test/unit/stream-translate.test.ts",
      "test/unit/thread-events.test.ts",
    ],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
