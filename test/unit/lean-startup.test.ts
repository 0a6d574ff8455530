import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../support/server.js";

const fixtures = path.resolve("test/fixtures/lean-startup");

/** Packages only some servers need: a server without the feature never imports them (idle RSS). */
const LAZY = [
  "swagger-ui-express", // /docs, built at its first request
  "@opentelemetry/sdk-trace", // OTEL_* tracing
  "@opentelemetry/exporter-trace-otlp-http",
  "@opentelemetry/core",
  "@tailwindcss/postcss", // langgraph.json `ui`
  "postcss",
  "pino-pretty", // a terminal
];

/**
 * bin/lgts.js serving a langgraph.json (`npm start`: the examples; `command` dev: `npm run dev`),
 * stopped once it listens: every URL it imported, and those its own process imported (not a
 * server child's).
 */
async function importsOf(dir: string, command = "serve", config = path.join(REPO_ROOT, "examples/langgraph.json")) {
  const imports = path.join(dir, "imports.txt");
  const env: NodeJS.ProcessEnv = { ...process.env, LEAN_STARTUP_IMPORTS: imports };
  for (const name of Object.keys(env)) if (/^(OTEL_|LANGSMITH_|LANGCHAIN_)/.test(name)) delete env[name];
  const args = [command, "--config", config, "--port", "0", "--data-dir", path.join(dir, "data")];
  await rm(imports, { force: true });
  const child = spawn(process.execPath, ["--import", path.join(fixtures, "register.mjs"), path.join(REPO_ROOT, "bin/lgts.js"), ...args], {
    env,
    stdio: ["ignore", "pipe", "inherit"],
  });
  const exited = once(child, "exit");
  for await (const line of createInterface({ input: child.stdout })) {
    if (line.includes('"msg":"listening"')) break;
  }
  child.kill(command === "dev" ? "SIGINT" : "SIGTERM");
  await exited;
  const lines = (await readFile(imports, "utf8")).split("\n").map((line) => line.split(" "));
  return { all: lines.map(([, url]) => url ?? ""), own: lines.filter(([pid]) => pid === String(child.pid)).map(([, url]) => url) };
}
const importsOfServe = async (dir: string, config?: string) => (await importsOf(dir, "serve", config)).all;

describe("npm start (a server without tracing or UI components)", () => {
  let dir: string;
  let loaded: string[];
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("starts without importing the packages only those need", async () => {
    dir = await mkdtemp(path.join(tmpdir(), "lgts-lean-"));
    // a first start may build the server (bin/server-build.js): the second is what a deployment sees
    await importsOfServe(dir);
    loaded = await importsOfServe(dir);
    expect(loaded.some((url) => url.includes("/examples/src/trivial.ts"))).toBe(true); // the recording works
    expect(LAZY.filter((name) => loaded.some((url) => url.includes(`/node_modules/${name}/`)))).toEqual([]);
  }, 150_000);

  it("runs the server's own code from its build, not compiled from src/ as it starts", () => {
    const sources = pathToFileURL(path.join(REPO_ROOT, "src/")).href;
    const build = pathToFileURL(path.join(REPO_ROOT, "dist/server/")).href;
    // the probe for a TypeScript loader (src/runtime/graphs/loader.ts) is imported from src/ by design
    expect(loaded.filter((url) => url.startsWith(sources) && !url.includes("/ts-probe/"))).toEqual([]);
    expect(loaded.some((url) => url.startsWith(build) && url.endsWith("/cli.js"))).toBe(true);
  });

  it("lgts dev's reloader leaves the server to its child", async () => {
    const { all, own } = await importsOf(dir, "dev");
    expect(all.some((url) => url.includes("/node_modules/express/"))).toBe(true); // the server child's, recorded
    expect(own.some((url) => url.endsWith("/cli.js"))).toBe(true);
    expect(
      ["express", "openapi-backend", "@langchain/langgraph", "@langchain/core"].filter((name) =>
        own.some((url) => url.includes(`/node_modules/${name}/`)),
      ),
    ).toEqual([]);
  }, 150_000);

  it("serves JavaScript graphs without a TypeScript loader (tsx, esbuild)", async () => {
    const imports = await importsOfServe(dir, path.join(fixtures, "javascript/langgraph.json"));
    expect(imports.some((url) => url.endsWith("/graphs/plain.mjs"))).toBe(true);
    expect(["tsx", "esbuild"].filter((name) => imports.some((url) => url.includes(`/node_modules/${name}/`)))).toEqual([]);
  }, 150_000);
});
