/**
 * A server that fails to start halfway (here: its port is taken, the last step) closes what it
 * had opened: on the embedded store it no longer answers on its data directory's socket (so
 * `lgts import` may write the directory), on PostgreSQL it leaves no connection to the database.
 */
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, StartupError } from "../../src/server.js";
import { controlSocketPath } from "../../src/storage/archive/control-socket.js";
import { createTestDatabase, TEST_STORAGE } from "../support/postgres.js";
import { eventually } from "../support/runs.js";
import { EXAMPLES_CONFIG } from "../support/server.js";

let blocker: Server;
let port: number;
beforeAll(async () => {
  blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
  port = (blocker.address() as { port: number }).port;
});
afterAll(() => new Promise<void>((resolve) => blocker.close(() => resolve())));

describe("a startup that fails at its last step", () => {
  it("closes what it opened", async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), "lgts-startup-"));
    const database = TEST_STORAGE === "postgres" ? await createTestDatabase() : undefined;
    try {
      const starting = startServer({
        configPath: EXAMPLES_CONFIG,
        port,
        host: "127.0.0.1",
        dataDir,
        ...(database ? { databaseUri: database.uri } : {}),
        logger: pino({ level: "silent" }),
      });
      await expect(starting).rejects.toBeInstanceOf(StartupError);
      await expect(starting).rejects.toThrow(/already in use/);
      if (database) {
        const admin = new pg.Client({ connectionString: database.uri });
        await admin.connect();
        try {
          const others = async () =>
            Number(
              (
                await admin.query<{ n: string }>(
                  "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
                )
              ).rows[0].n,
            );
          await eventually(async () => ((await others()) === 0 ? true : undefined), 10_000, "the server's connections to close");
        } finally {
          await admin.end();
        }
      } else {
        // the embedded backend had started answering lgts export on its data directory
        expect(existsSync(controlSocketPath(dataDir))).toBe(false);
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
      await database?.drop();
    }
  });
});
