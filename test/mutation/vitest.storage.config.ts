import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

/** The tests Stryker runs against mutants of src/storage: the storage unit tests (fast, no server, no graphs). */
export default defineConfig({
  test: {
    root: fileURLToPath(new URL("../..", import.meta.url)),
    include: ["test/unit/storage-*.test.ts", "test/unit/store-items.test.ts"],
    // SIGKILL crash tests run the source in child processes that mutants never reach
    exclude: ["test/unit/storage-crash.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
