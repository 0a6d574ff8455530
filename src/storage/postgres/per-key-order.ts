/**
 * Runs the operations of one key (a thread's checkpoints) one after another, in call order, and
 * commits the writes that pile up meanwhile together.
 *
 * Order: the embedded backend applies a change the moment it is called (only durability comes
 * later), so a checkpoint save made without awaiting it is already visible to the next call;
 * over a connection pool two calls can overtake each other. Chaining a key's operations gives
 * PostgreSQL the same call-order semantics within a process.
 *
 * Group commit: a run saves a checkpoint and its writes at every step, each a commit, and with
 * `synchronous_commit` each commit waits for a WAL flush (a disk sync). Writes queued while the
 * key's previous operation is on its way go in one transaction: a run's steps share flushes
 * instead of each waiting for its own, and each write's promise still resolves only once it is
 * committed. Should the database refuse one of them (invalid data), they are retried one by
 * one, so only that one fails, as it would alone. A deferred write (see SaveOptions) that finds
 * the key idle waits for the end of the event-loop turn, so the turn's other saves join its
 * commit; a group of deferred writes only commits without waiting for the WAL flush. Idle keys
 * are forgotten, so the map holds only keys with work in flight.
 */
import { StorageUnavailableError } from "../errors.js";
import type { Database, QueryResult } from "./database.js";

/** The writes' texts are fixed (their values are parameters): each is planned once per connection. */
const PREPARED = { prepare: true } as const;

/** Most statements in one transaction (a graph writing thousands at once commits in steps). */
const MAX_GROUP = 64;

interface Settle<T> {
  resolve(value: T): void;
  reject(error: unknown): void;
}

type Operation =
  | ({ kind: "write"; text: string; params: readonly unknown[]; deferred: boolean } & Settle<QueryResult<unknown>>)
  | ({ kind: "work"; work: () => Promise<unknown> } & Settle<unknown>);

export class PerKeyOrder {
  readonly #queues = new Map<string, Operation[]>();

  constructor(private readonly db: Database) {}

  /** Runs `work` alone, after every operation of `key` called before it. */
  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => this.#enqueue(key, { kind: "work", work, resolve: resolve, reject }));
  }

  /**
   * One write statement of `key`, after the operations called before it; committed with the
   * writes queued next to it. `deferred` (see SaveOptions): its commit need not wait for the WAL
   * flush; a group commits so only when all of its writes are deferred.
   */
  write<R = Record<string, unknown>>(key: string, text: string, params: readonly unknown[], deferred = false): Promise<QueryResult<R>> {
    return new Promise<QueryResult<R>>((resolve, reject) =>
      this.#enqueue(key, { kind: "write", text, params, deferred, resolve: resolve as (v: QueryResult<unknown>) => void, reject }),
    );
  }

  #enqueue(key: string, operation: Operation): void {
    const queue = this.#queues.get(key);
    if (queue) {
      queue.push(operation);
      return;
    }
    const started = [operation];
    this.#queues.set(key, started);
    if (operation.kind === "write" && operation.deferred) {
      // nobody waits on its durability: the rest of this turn's saves (a step's checkpoint and
      // its writes) join its commit
      setImmediate(() => void this.#drain(key, started));
    } else {
      void this.#drain(key, started);
    }
  }

  /** Runs the key's queue until it is empty (its first operation at once, as a direct call would). */
  async #drain(key: string, queue: Operation[]): Promise<void> {
    while (queue.length > 0) {
      const head = queue[0];
      if (head.kind === "work") {
        queue.shift();
        await head.work().then(head.resolve, head.reject);
        continue;
      }
      let count = 1;
      while (count < queue.length && count < MAX_GROUP && queue[count].kind === "write") count++;
      const group = queue.splice(0, count) as Array<Extract<Operation, { kind: "write" }>>;
      await this.#commit(group);
    }
    this.#queues.delete(key);
  }

  async #commit(group: Array<Extract<Operation, { kind: "write" }>>): Promise<void> {
    const deferDurability = group.every((write) => write.deferred);
    if (group.length === 1 && !deferDurability) {
      const [write] = group as [Extract<Operation, { kind: "write" }>];
      await this.db.query(write.text, write.params, PREPARED).then(write.resolve, write.reject);
      return;
    }
    let results: Array<QueryResult<unknown>>;
    try {
      results = await this.db.transaction(
        async (tx) => {
          const done: Array<QueryResult<unknown>> = [];
          for (const write of group) done.push(await tx.query(write.text, write.params, PREPARED));
          return done;
        },
        { deferDurability },
      );
    } catch (error) {
      if (error instanceof StorageUnavailableError) {
        for (const write of group) write.reject(error);
        return;
      }
      // one of them was refused, and the transaction with it: each alone, so only that one fails
      for (const write of group) await this.db.query(write.text, write.params, PREPARED).then(write.resolve, write.reject);
      return;
    }
    group.forEach((write, i) => write.resolve(results[i]));
  }
}
