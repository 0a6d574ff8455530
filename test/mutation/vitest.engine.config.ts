import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

/**
 * The tests Stryker runs against mutants of the run engine's wiring (src/runtime/runs beside the
 * queue, brokers and request parsing, which stryker.runtime.json scores): the engine test, which
 * runs graphs on a temp lowdb storage, and the unit tests of the parts it composes. Seconds per
 * mutant: run it per file (`--mutate`), see test/README.md.
 */
export default defineConfig({
  test: {
    root: fileURLToPath(new URL("../..", import.meta.url)),
    include: [
      "test/unit/runs-engine.test.ts",
      "test/unit/runs-recovery.test.ts",
      "test/unit/runs-queue.test.ts",
      "test/unit/runs-broker.test.ts",
      "test/unit/runs-broker-streams.test.ts",
      "test/unit/runs-request.test.ts",
      "test/unit/webhook.test.ts",
      "test/unit/auth.test.ts",
      "test/unit/stream-translate.test.ts",
    ],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
