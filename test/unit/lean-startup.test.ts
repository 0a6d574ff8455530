import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

const fixtures = path.resolve("test/fixtures/lean-startup");

/** Packages only some servers need: a server without the feature never imports them (idle RSS). */
const LAZY = [
  "swagger-ui-express", // /docs, built at its first request
  "@opentelemetry/sdk-trace", // OTEL_* tracing
  "@opentelemetry/exporter-trace-otlp-http",
  "@opentelemetry/core",
  "@tailwindcss/postcss", // langgraph.json `ui`
  "postcss",
];

describe("a server without tracing or UI components", () => {
  let dir: string;
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("starts without importing the packages only those need", async () => {
    dir = await mkdtemp(path.join(tmpdir(), "lgts-lean-"));
    const imports = path.join(dir, "imports.txt");
    const env: NodeJS.ProcessEnv = { ...process.env, LEAN_STARTUP_IMPORTS: imports, LEAN_STARTUP_DATA_DIR: path.join(dir, "data") };
    for (const name of Object.keys(env)) if (/^(OTEL_|LANGSMITH_|LANGCHAIN_)/.test(name)) delete env[name];
    await promisify(execFile)(
      process.execPath,
      ["--import", "tsx", "--import", path.join(fixtures, "register.mjs"), path.join(fixtures, "serve.ts")],
      {
        env,
        timeout: 120_000,
      },
    );
    const loaded = (await readFile(imports, "utf8")).split("\n");
    expect(loaded.some((url) => url.includes("/examples/src/trivial.ts"))).toBe(true); // the recording works
    expect(LAZY.filter((name) => loaded.some((url) => url.includes(`/node_modules/${name}/`)))).toEqual([]);
  }, 150_000);
});
