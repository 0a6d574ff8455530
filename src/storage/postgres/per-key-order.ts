/**
 * Runs async work for the same key one after another, in call order. The embedded backend applies
 * a change the moment it is called (only durability comes later), so a checkpoint save made
 * without awaiting it is already visible to the next call; over a connection pool two calls can
 * overtake each other. Chaining a thread's checkpoint operations gives PostgreSQL the same
 * call-order semantics within a process. Idle keys are forgotten, so the map holds only keys
 * with work in flight.
 */
export class PerKeyOrder {
  readonly #tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key);
    const result = previous ? previous.then(work, work) : work();
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return result;
  }
}
