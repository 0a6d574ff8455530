/**
 * The PostgreSQL `Storage`: one pool, migrations applied at startup, one repository module per
 * table group. Several server processes may share the database: nothing here keeps state that
 * another process would need (thread hooks are this process's own listeners).
 */
import { StorageUnavailableError } from "../errors.js";
import type { Storage, ThreadHooks } from "../types.js";
import { PostgresArchive } from "./archive.js";
import { PostgresAssistants } from "./assistants.js";
import { PostgresCheckpoints } from "./checkpoints.js";
import { PostgresCrons } from "./crons.js";
import { Database, type DatabaseOptions } from "./database.js";
import { migrate } from "./migrations.js";
import { PostgresRuns } from "./runs.js";
import { PostgresStoreItems } from "./store-items.js";
import { PostgresThreads } from "./threads.js";
import { PostgresWebhooks } from "./webhooks.js";

export interface PostgresStorageOptions extends DatabaseOptions {
  /** `postgres://user:password@host:port/database` */
  uri: string;
  /** Clock of store-item expiry (tests move it by hand). */
  clock?: () => number;
}

export class PostgresStorage implements Storage {
  readonly backend = "postgres";
  /** Each write commits on its own connection: one being durable says nothing of another. */
  readonly durableInOrder = false;
  readonly assistants: PostgresAssistants;
  readonly threads: PostgresThreads;
  readonly checkpoints: PostgresCheckpoints;
  readonly runs: PostgresRuns;
  readonly crons: PostgresCrons;
  readonly storeItems: PostgresStoreItems;
  readonly webhooks: PostgresWebhooks;
  readonly archive: PostgresArchive;
  readonly #threadHooks = new Set<ThreadHooks>();
  #closing: Promise<void> | null = null;

  private constructor(
    readonly db: Database,
    clock: () => number,
  ) {
    this.assistants = new PostgresAssistants(db);
    this.threads = new PostgresThreads(db, () => this.#threadHooks);
    this.checkpoints = new PostgresCheckpoints(db);
    this.runs = new PostgresRuns(db);
    this.crons = new PostgresCrons(db);
    this.storeItems = new PostgresStoreItems(db, clock);
    this.webhooks = new PostgresWebhooks(db);
    this.archive = new PostgresArchive(db);
  }

  /** Connects and brings the schema up to date; a database that cannot be reached rejects with StorageUnavailableError. */
  static async open(options: PostgresStorageOptions): Promise<PostgresStorage> {
    const db = new Database(options.uri, options);
    try {
      await migrate(db);
    } catch (error) {
      await db.close();
      throw error;
    }
    return new PostgresStorage(db, options.clock ?? Date.now);
  }

  /** A round trip to the database (`/ok?check_db=1`); StorageUnavailableError when it is unreachable. */
  async check(): Promise<void> {
    if (this.#closing) throw new StorageUnavailableError("storage is closed");
    await this.db.query("SELECT 1");
  }

  addThreadHooks(hooks: ThreadHooks): () => void {
    if (this.#closing) throw new StorageUnavailableError("storage is closed");
    this.#threadHooks.add(hooks);
    return () => this.#threadHooks.delete(hooks);
  }

  close(): Promise<void> {
    this.#closing ??= this.db.close();
    return this.#closing;
  }
}
