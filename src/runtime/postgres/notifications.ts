/**
 * LISTEN/NOTIFY for the processes sharing one PostgreSQL database: one dedicated connection per
 * process LISTENs on the channels handlers were registered for; `notify` goes through the pool
 * (or inside a transaction, with `notifySql`, so the notice leaves only if the change commits).
 *
 * A lost listening connection reconnects with backoff; notices sent while it was away are lost,
 * so after a reconnect every channel's `resync` handlers run (each re-reads what it follows).
 *
 * The same connection holds this process's session-level advisory locks (`holdLock`): others
 * see in `pg_locks` that the process is alive, and PostgreSQL releases them when it dies.
 */
import pg from "pg";
import type { Logger } from "pino";

export interface SqlQueryable {
  query<R = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<{ rows: R[]; rowCount: number }>;
}

/** What the PostgreSQL parts need of the storage's pool. */
export interface SqlDatabase extends SqlQueryable {
  transaction<T>(work: (tx: SqlQueryable) => Promise<T>): Promise<T>;
}

export type NotificationHandler = (payload: string) => void;

interface SessionLock {
  namespace: string;
  key: string;
  held: boolean;
  /** A failure to take it was logged (once until it is taken). */
  warned: boolean;
}

const MAX_BACKOFF_MS = 2_000;
const CONNECT_TIMEOUT_MS = 10_000;

export class Notifications {
  readonly #handlers = new Map<string, Set<NotificationHandler>>();
  readonly #resyncs = new Set<() => void>();
  /** Session locks to hold (by `namespace key`), and whether the current connection holds each. */
  readonly #locks = new Map<string, SessionLock>();
  #client: pg.Client | null = null;
  #connecting: Promise<void> | null = null;
  #closed = false;
  #backoffMs = 50;
  #retry: NodeJS.Timeout | null = null;

  constructor(
    private readonly uri: string,
    private readonly db: SqlQueryable,
    private readonly logger: Logger,
  ) {}

  /** Connects the listening connection (and LISTENs on every channel registered so far). */
  start(): Promise<void> {
    this.#connecting ??= this.#connect();
    return this.#connecting;
  }

  /** Calls `handler` with the payload of every notice on `channel` (from any process, this one included). */
  async on(channel: string, handler: NotificationHandler): Promise<() => void> {
    await this.start();
    let handlers = this.#handlers.get(channel);
    if (!handlers) {
      this.#handlers.set(channel, (handlers = new Set()));
      // a failure is a lost connection: the reconnect LISTENs on every registered channel
      await this.#client?.query(`LISTEN ${pg.escapeIdentifier(channel)}`).catch(() => {});
    }
    handlers.add(handler);
    return () => handlers.delete(handler);
  }

  /** Called after the listening connection came back: notices may have been missed meanwhile. */
  onResync(handler: () => void): () => void {
    this.#resyncs.add(handler);
    return () => this.#resyncs.delete(handler);
  }

  /**
   * Holds `pg_advisory_lock(hashtext(namespace), hashtext(key))` on the listening connection while
   * it stays up, and takes it again after a reconnect. False when it is not held now: the
   * connection is away, or another session holds it (call again later).
   */
  async holdLock(namespace: string, key: string): Promise<boolean> {
    const id = `${namespace} ${key}`;
    let lock = this.#locks.get(id);
    if (!lock) this.#locks.set(id, (lock = { namespace, key, held: false, warned: false }));
    if (!lock.held && this.#client) await this.#tryLock(this.#client, lock).catch(() => {});
    return lock.held;
  }

  /** Stops taking a lock `holdLock` could not take (it is not held). */
  forgetLock(namespace: string, key: string): void {
    const id = `${namespace} ${key}`;
    if (!this.#locks.get(id)?.held) this.#locks.delete(id);
  }

  async notify(channel: string, payload: string): Promise<void> {
    await this.db.query("SELECT pg_notify($1, $2)", [channel, payload]);
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#retry) clearTimeout(this.#retry);
    const client = this.#client;
    this.#client = null;
    await client?.end().catch(() => {});
  }

  async #connect(): Promise<void> {
    const client = new pg.Client({
      connectionString: this.uri,
      application_name: "langgraph-ts-server:listen",
      // a connection attempt that hangs (a database host that vanished) fails and is retried
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      keepAlive: true,
    });
    client.on("notification", (message) => {
      for (const handler of this.#handlers.get(message.channel) ?? []) {
        try {
          handler(message.payload ?? "");
        } catch (error) {
          this.logger.error({ err: error, channel: message.channel }, "notification handler failed");
        }
      }
    });
    client.on("error", (error) => this.#lost(client, error));
    client.on("end", () => this.#lost(client, new Error("listening connection ended")));
    try {
      await client.connect();
      for (const channel of this.#handlers.keys()) await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
      for (const lock of this.#locks.values()) await this.#tryLock(client, lock);
    } catch (error) {
      // a connection that came up but could not LISTEN is closed, not left open
      await client.end().catch(() => {});
      throw error;
    }
    this.#client = client;
    this.#backoffMs = 50;
  }

  async #tryLock(client: pg.Client, lock: SessionLock): Promise<void> {
    const { rows } = await client.query<{ held: boolean }>("SELECT pg_try_advisory_lock(hashtext($1), hashtext($2)) AS held", [
      lock.namespace,
      lock.key,
    ]);
    lock.held = rows[0]?.held === true;
    if (!lock.held && !lock.warned) this.logger.warn({ lock: lock.key }, "another session holds this process's lock; trying again later");
    lock.warned = !lock.held;
  }

  #lost(client: pg.Client, error: Error): void {
    if (this.#client !== client || this.#closed) return;
    this.#client = null;
    for (const lock of this.#locks.values()) lock.held = false;
    client.end().catch(() => {});
    this.logger.warn({ err: error }, "lost the LISTEN connection to PostgreSQL; reconnecting");
    this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    if (this.#closed || this.#retry) return;
    const delay = this.#backoffMs;
    this.#backoffMs = Math.min(this.#backoffMs * 2, MAX_BACKOFF_MS);
    this.#retry = setTimeout(() => {
      this.#retry = null;
      this.#connect().then(
        () => {
          for (const resync of this.#resyncs) resync();
        },
        () => this.#scheduleReconnect(),
      );
    }, delay);
    this.#retry.unref();
  }
}
