import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

/**
 * The tests Stryker runs against mutants of the run engine and streams: their unit tests. The API
 * suites cover them too but start servers, which would make every mutant cost seconds.
 */
export default defineConfig({
  test: {
    root: fileURLToPath(new URL("../..", import.meta.url)),
    include: ["test/unit/runs-*.test.ts", "test/unit/stream-*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
