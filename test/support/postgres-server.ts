/**
 * A throwaway PostgreSQL 15 server for tests: a fresh cluster in a temp directory, on a free
 * loopback port, stopped and removed by `stop()`. As root the server runs as the `postgres` user
 * (PostgreSQL refuses to run as root). Durability is off (fsync, synchronous_commit): a test
 * cluster never outlives its run, and this keeps commits off the shared disk's queue.
 */
import { execFile } from "node:child_process";
import { chmod, chown, mkdtemp, rm, access } from "node:fs/promises";
import { tmpdir, userInfo } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { freePort } from "./free-port.js";

const run = promisify(execFile);
const BIN = process.env.LGTS_PG_BIN ?? "/usr/lib/postgresql/15/bin";

export interface PostgresServer {
  /** Connection string of the `postgres` database as the `postgres` superuser. */
  uri: string;
  port: number;
  /** Kills the server at once (like a crash), keeping its data; `start()` brings it back. */
  kill(): Promise<void>;
  /** Starts the killed server again on the same port and data. */
  start(): Promise<void>;
  /** Stops the server and removes its data. */
  stop(): Promise<void>;
}

/** Runs a PostgreSQL binary, as the `postgres` user when we are root. */
async function pgExec(binary: string, args: string[]): Promise<void> {
  const file = path.join(BIN, binary);
  const asRoot = userInfo().uid === 0;
  try {
    await (asRoot ? run("runuser", ["-u", "postgres", "--", file, ...args]) : run(file, args));
  } catch (error) {
    const { stderr, stdout } = error as { stderr?: string; stdout?: string };
    throw new Error(`${binary} failed: ${(stderr || stdout || (error as Error).message).trim()}`);
  }
}

/**
 * `crashSafe` keeps `synchronous_commit` on, for tests that kill the server and expect every
 * acknowledged write back: with it off, PostgreSQL acknowledges a commit before its WAL is written,
 * so an immediate stop loses the last fraction of a second (fsync stays off: a killed process does
 * not lose the operating system's page cache).
 */
export async function startPostgres(options: { crashSafe?: boolean } = {}): Promise<PostgresServer> {
  try {
    await access(path.join(BIN, "initdb"));
  } catch {
    throw new Error(`PostgreSQL 15 binaries not found in ${BIN}: install the Debian package postgresql-15 (.ci/run does) or set LGTS_PG_BIN`);
  }
  const dir = await mkdtemp(path.join(tmpdir(), "lgts-pg-"));
  if (userInfo().uid === 0) {
    const { stdout } = await run("id", ["-u", "postgres"]);
    const { stdout: gid } = await run("id", ["-g", "postgres"]);
    await chown(dir, Number(stdout.trim()), Number(gid.trim()));
  }
  await chmod(dir, 0o700);
  const data = path.join(dir, "data");
  await pgExec("initdb", ["-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"]);
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const settings = [
      `-p ${port}`,
      `-k ${dir}`,
      "-c listen_addresses=127.0.0.1",
      "-c fsync=off",
      ...(options.crashSafe ? [] : ["-c synchronous_commit=off"]),
      "-c full_page_writes=off",
      "-c max_connections=300",
      "-c shared_buffers=64MB",
    ].join(" ");
    const start = () => pgExec("pg_ctl", ["-D", data, "-l", path.join(dir, "log"), "-o", settings, "-w", "-t", "60", "start"]);
    const kill = () => pgExec("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]);
    try {
      await start();
    } catch (error) {
      if (attempt < 3) continue; // the port was taken between probing and binding
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
    let stopped: Promise<void> | undefined;
    return {
      uri: `postgres://postgres@127.0.0.1:${port}/postgres`,
      port,
      kill,
      start,
      stop: () =>
        (stopped ??= kill()
          .catch(() => {})
          .finally(() => rm(dir, { recursive: true, force: true }))),
    };
  }
}
