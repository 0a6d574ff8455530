/**
 * The connection pool and the one place that turns driver failures into storage errors.
 *
 * Every query goes through `Database.query` or a `transaction`: a lost or refused connection, a
 * server shutting down or a statement that ran out of time becomes `StorageUnavailableError`
 * (503), so a request fails cleanly while the database is away. The pool opens new connections
 * on demand, so the next request after the database is back simply works: reconnecting needs no
 * code of its own. A failed transaction is rolled back (or its connection discarded), so an
 * unacknowledged write leaves nothing behind and an acknowledged one was committed.
 */
import pg from "pg";
import { StorageUnavailableError } from "../errors.js";

export interface DatabaseOptions {
  /** Most connections this process holds (default 10). */
  poolMax?: number;
  /** Server-side limit of one statement, ms (default 30 s). */
  statementTimeoutMs?: number;
  /** How long a request waits for a free connection or a new one, ms (default 10 s). */
  connectTimeoutMs?: number;
}

export interface Queryable {
  query<R = Record<string, unknown>>(text: string, params?: readonly unknown[], options?: QueryOptions): Promise<QueryResult<R>>;
}

export interface QueryOptions {
  /**
   * A statement sent very often, whose text never changes (its values are parameters): prepared
   * once per connection, so PostgreSQL plans it once instead of on every call (planning a
   * statement of several CTEs can cost more than executing it).
   */
  prepare?: boolean;
}

export interface QueryResult<R> {
  rows: R[];
  rowCount: number;
}

/** SQLSTATE classes/codes meaning "the database is not there right now", not "your query is wrong". */
const UNAVAILABLE_CODES = new Set(["57P01", "57P02", "57P03", "53300", "57014", "55P03", "40P01"]);
const UNAVAILABLE_NODE_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EHOSTUNREACH", "EAI_AGAIN"]);

/** Whether a driver error means the database is unreachable or overloaded (-> 503). */
export function isUnavailable(error: unknown): boolean {
  const code = (error as { code?: string } | null)?.code;
  if (typeof code === "string" && (code.startsWith("08") || UNAVAILABLE_CODES.has(code) || UNAVAILABLE_NODE_CODES.has(code))) {
    return true;
  }
  const message = error instanceof Error ? error.message : "";
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|connection is closed|Cannot use a pool after calling end/i.test(
    message,
  );
}

function translate(error: unknown): unknown {
  if (error instanceof StorageUnavailableError || !isUnavailable(error)) return error;
  return new StorageUnavailableError(`database unavailable: ${(error as Error).message}`, { cause: error });
}

export class Database implements Queryable {
  readonly #pool: pg.Pool;
  /** Sees every statement with its parameters (the index-plan test records them). */
  onQuery: ((text: string, params: readonly unknown[]) => void) | undefined;
  /** Names of the prepared statements, by text (the same on every connection). */
  readonly #prepared = new Map<string, string>();

  constructor(uri: string, options: DatabaseOptions = {}) {
    this.#pool = new pg.Pool({
      connectionString: uri,
      max: options.poolMax ?? 10,
      statement_timeout: options.statementTimeoutMs ?? 30_000,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
      idleTimeoutMillis: 30_000,
      application_name: "langgraph-ts-server",
      // TCP keepalive: a connection to a database host that vanished without closing it is noticed
      keepAlive: true,
    });
    // An idle connection the server dropped: the pool discards it; without a listener Node would exit.
    this.#pool.on("error", () => {});
  }

  async query<R = Record<string, unknown>>(text: string, params: readonly unknown[] = [], options?: QueryOptions): Promise<QueryResult<R>> {
    this.onQuery?.(text, params);
    try {
      const result = await this.#pool.query(this.#statement(text, params, options));
      return { rows: result.rows as R[], rowCount: result.rowCount ?? 0 };
    } catch (error) {
      throw translate(error);
    }
  }

  /**
   * Runs `work` in one transaction on one connection; rolls back when it throws. With
   * `deferDurability` its commit does not wait for the WAL flush: it is durable once any later
   * commit that waits is (WAL is flushed in order), or within a few WAL writer rounds.
   */
  async transaction<T>(work: (tx: Queryable) => Promise<T>, options: { deferDurability?: boolean } = {}): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.#pool.connect();
    } catch (error) {
      throw translate(error);
    }
    let broken = false;
    // A connection lost while checked out emits "error"; without a listener that would be an
    // uncaught exception (a crash). The transaction's next statement then fails and rolls back.
    const onLost = () => (broken = true);
    client.on("error", onLost);
    const tx: Queryable = {
      query: async <R>(text: string, params: readonly unknown[] = [], options?: QueryOptions) => {
        this.onQuery?.(text, params);
        const result = await client.query(this.#statement(text, params, options));
        return { rows: result.rows as R[], rowCount: result.rowCount ?? 0 };
      },
    };
    try {
      // one round trip: a simple query may hold several statements
      await client.query(options.deferDurability ? "BEGIN; SET LOCAL synchronous_commit TO off" : "BEGIN");
      const result = await work(tx);
      await client.query("COMMIT");
      return result;
    } catch (error) {
      broken ||= isUnavailable(error);
      if (!broken) await client.query("ROLLBACK").catch(() => (broken = true));
      throw translate(error);
    } finally {
      client.off("error", onLost);
      // a connection in an unknown state is destroyed rather than given to the next request
      client.release(broken);
    }
  }

  close(): Promise<void> {
    return this.#pool.end();
  }

  /** The driver's query: named when prepared (the driver prepares a name once per connection). */
  #statement(text: string, params: readonly unknown[], options: QueryOptions | undefined): pg.QueryConfig {
    if (!options?.prepare) return { text, values: params as unknown[] };
    let name = this.#prepared.get(text);
    if (name === undefined) this.#prepared.set(text, (name = `lgts_${this.#prepared.size + 1}`));
    return { name, text, values: params as unknown[] };
  }
}
