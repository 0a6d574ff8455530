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
 * key's previous operation is on its way go in one statement (`writeGroup`, one round trip and
 * one commit): a run's steps share flushes instead of each waiting for its own, and each write's
 * promise still resolves only once it is committed. Should the database refuse the group (one
 * write's invalid data), its writes are retried one by one, so only that one fails, as it would
 * alone. A deferred write (see SaveOptions) that finds the key idle waits for the end of the
 * event-loop turn, so the turn's other saves join its commit; a group of deferred writes only
 * commits without waiting for the WAL flush. Idle keys are forgotten, so the map holds only keys
 * with work in flight.
 */
import { StorageUnavailableError } from "../errors.js";

/** Most writes in one statement (a graph writing thousands at once commits in steps). */
const MAX_GROUP = 64;

/** Writes `group` (in call order) in one statement; `deferred`: its commit need not wait for the WAL flush. */
export type GroupWriter<W> = (group: readonly W[], deferred: boolean) => Promise<void>;

interface Settle<T> {
  resolve(value: T): void;
  reject(error: unknown): void;
}

type Operation<W> =
  ({ kind: "write"; write: W; deferred: boolean } & Settle<void>) | ({ kind: "work"; work: () => Promise<unknown> } & Settle<unknown>);

export class PerKeyOrder<W> {
  readonly #queues = new Map<string, Array<Operation<W>>>();

  constructor(private readonly writeGroup: GroupWriter<W>) {}

  /** Runs `work` alone, after every operation of `key` called before it. */
  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => this.#enqueue(key, { kind: "work", work, resolve: resolve, reject }));
  }

  /**
   * One write of `key`, after the operations called before it; committed with the writes queued
   * next to it. `deferred` (see SaveOptions): its commit need not wait for the WAL flush; a group
   * commits so only when all of its writes are deferred.
   */
  write(key: string, write: W, deferred = false): Promise<void> {
    return new Promise<void>((resolve, reject) => this.#enqueue(key, { kind: "write", write, deferred, resolve, reject }));
  }

  #enqueue(key: string, operation: Operation<W>): void {
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
  async #drain(key: string, queue: Array<Operation<W>>): Promise<void> {
    while (queue.length > 0) {
      const head = queue[0];
      if (head.kind === "work") {
        queue.shift();
        await head.work().then(head.resolve, head.reject);
        continue;
      }
      let count = 1;
      while (count < queue.length && count < MAX_GROUP && queue[count].kind === "write") count++;
      const group = queue.splice(0, count) as Array<Extract<Operation<W>, { kind: "write" }>>;
      await this.#commit(group);
    }
    this.#queues.delete(key);
  }

  async #commit(group: Array<Extract<Operation<W>, { kind: "write" }>>): Promise<void> {
    try {
      await this.writeGroup(
        group.map((operation) => operation.write),
        group.every((operation) => operation.deferred),
      );
    } catch (error) {
      if (error instanceof StorageUnavailableError || group.length === 1) {
        for (const operation of group) operation.reject(error);
        return;
      }
      // one of them was refused, and the statement with it: each alone, so only that one fails
      for (const operation of group) await this.writeGroup([operation.write], operation.deferred).then(operation.resolve, operation.reject);
      return;
    }
    for (const operation of group) operation.resolve();
  }
}
