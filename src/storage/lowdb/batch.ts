/** A group of mutations waiting for one durable write: its waiters share one promise. */
export interface Batch {
  promise: Promise<void>;
  resolve(): void;
  reject(err: unknown): void;
}

export const noop = () => {};

export function newBatch(): Batch {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A caller that drops its commit promise must not crash the process.
  promise.catch(noop);
  return { promise, resolve, reject };
}
