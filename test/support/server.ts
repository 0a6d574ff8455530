import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "@langchain/langgraph-sdk";
import { pino } from "pino";
import type { ContractViolation } from "../../src/http/contract-check.js";
import type { RunEngineOptions } from "../../src/runtime/runs/engine.js";
import { startServer, type RunningServer } from "../../src/server.js";

export const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const EXAMPLES_CONFIG = path.join(REPO_ROOT, "examples/langgraph.json");

/** A response body as loosely typed JSON, for assertions. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const json = (res: Response): Promise<any> => res.json();

export interface TestServer {
  server: RunningServer;
  client: Client;
  url: string;
  dataDir: string;
  /** Every response that broke the contract since the server started (tests assert it stays empty). */
  violations: ContractViolation[];
  /** Stops the server; the data directory stays until `dispose`. */
  stop(): Promise<void>;
  /** Starts a new server on the same data directory (restart). */
  restart(): Promise<TestServer>;
  dispose(): Promise<void>;
}

export async function startTestServer(
  options: { configPath?: string; dataDir?: string; runs?: RunEngineOptions } = {},
): Promise<TestServer> {
  const dataDir = options.dataDir ?? (await mkdtemp(path.join(tmpdir(), "lgts-test-")));
  const violations: ContractViolation[] = [];
  const server = await startServer({
    configPath: options.configPath ?? EXAMPLES_CONFIG,
    port: 0,
    host: "127.0.0.1",
    dataDir,
    ...(options.runs ? { runs: options.runs } : {}),
    logger: pino({ level: process.env.LGTS_TEST_LOG ?? "silent" }),
    onContractViolation: (violation) => violations.push(violation),
  });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await server.close();
  };
  return {
    server,
    client: new Client({ apiUrl: server.url }),
    url: server.url,
    dataDir,
    violations,
    stop,
    async restart() {
      await stop();
      return startTestServer({ ...options, dataDir });
    },
    async dispose() {
      await stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
