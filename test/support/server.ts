import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "@langchain/langgraph-sdk";
import { UNQUEUED } from "./sdk.js";
import { pino } from "pino";
import type { ContractViolation } from "../../src/http/contract-check.js";
import type { RunEngineOptions } from "../../src/runtime/runs/engine.js";
import { startServer, type RunningServer } from "../../src/server.js";
import { createTestDatabase, TEST_STORAGE, type TestDatabase } from "./postgres.js";

export const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const EXAMPLES_CONFIG = path.join(REPO_ROOT, "examples/langgraph.json");

/**
 * Time budget of a test that derives schemas from TypeScript types (introspection, MCP tool lists):
 * seconds of CPU, tens of them on a loaded machine; speed is measured by benches, not tests.
 */
export const SCHEMA_DERIVING_TIMEOUT_MS = 120_000;

/** A response body as loosely typed JSON, for assertions. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const json = (res: Response): Promise<any> => res.json();

export interface TestServer {
  server: RunningServer;
  client: Client;
  url: string;
  dataDir: string;
  /** The server's own PostgreSQL database when this project runs on PostgreSQL (LGTS_TEST_STORAGE). */
  database?: TestDatabase;
  /** Every response that broke the contract since the server started (tests assert it stays empty). */
  violations: ContractViolation[];
  /** Stops the server; the data directory stays until `dispose`. */
  stop(): Promise<void>;
  /** Starts a new server on the same data directory (restart). */
  restart(): Promise<TestServer>;
  dispose(): Promise<void>;
}

export async function startTestServer(
  options: {
    configPath?: string;
    dataDir?: string;
    database?: TestDatabase;
    runs?: RunEngineOptions;
    cronSeconds?: boolean;
    waitKeepAliveMs?: number;
    console?: boolean;
  } = {},
): Promise<TestServer> {
  const dataDir = options.dataDir ?? (await mkdtemp(path.join(tmpdir(), "lgts-test-")));
  const database = options.database ?? (TEST_STORAGE === "postgres" ? await createTestDatabase() : undefined);
  const violations: ContractViolation[] = [];
  const server = await startServer({
    configPath: options.configPath ?? EXAMPLES_CONFIG,
    port: 0,
    host: "127.0.0.1",
    dataDir,
    ...(database ? { databaseUri: database.uri } : {}),
    ...(options.runs ? { runs: options.runs } : {}),
    ...(options.waitKeepAliveMs ? { waitKeepAliveMs: options.waitKeepAliveMs } : {}),
    ...(options.cronSeconds ? { cronSeconds: true } : {}),
    ...(options.console === false ? { console: false } : {}),
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
    client: new Client({ apiUrl: server.url, callerOptions: UNQUEUED }),
    url: server.url,
    dataDir,
    ...(database ? { database } : {}),
    violations,
    stop,
    async restart() {
      await stop();
      return startTestServer({ ...options, dataDir, ...(database ? { database } : {}) });
    },
    async dispose() {
      await stop();
      await rm(dataDir, { recursive: true, force: true });
      await database?.drop();
    },
  };
}
