import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // two cores: the server-driving suites are I/O bound, two workers keep them from starving
    maxWorkers: 2,
  },
});
