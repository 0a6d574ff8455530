import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

/**
 * The tests Stryker runs against mutants of src/auth: its unit tests (handler resolution,
 * authorize, authenticate, the user cache, the identity runs execute as). The API suites that
 * drive auth end to end (test/api/auth*.test.ts) start servers: too slow per mutant here.
 */
export default defineConfig({
  test: {
    root: fileURLToPath(new URL("../..", import.meta.url)),
    include: ["test/unit/auth.test.ts", "test/unit/auth-*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
