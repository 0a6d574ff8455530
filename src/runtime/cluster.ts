/**
 * What the processes of one deployment share besides storage: work only one of them may do at a
 * time (firing crons, sweeping TTLs) and nudges every process hears (a cron or an expiry moved
 * earlier). `LocalCluster` is the single-process implementation; `PostgresCluster`
 * (./postgres/cluster.ts) uses advisory locks and NOTIFY.
 */
export interface Cluster {
  /**
   * Runs `work` holding the named lock, waiting for it: across every process, one at a time.
   * Work that reads what is due after taking the lock therefore happens once.
   */
  exclusive<T>(name: string, work: () => Promise<T>): Promise<T>;
  /** Delivers `payload` to the `topic` handlers of every process, this one included. */
  broadcast(topic: string, payload: string): void;
  on(topic: string, handler: (payload: string) => void): Promise<() => void>;
}

export class LocalCluster implements Cluster {
  readonly #locks = new Map<string, Promise<unknown>>();
  readonly #topics = new Map<string, Set<(payload: string) => void>>();

  async exclusive<T>(name: string, work: () => Promise<T>): Promise<T> {
    const previous = this.#locks.get(name) ?? Promise.resolve();
    const current = previous.catch(() => {}).then(work);
    const settled = current.catch(() => {});
    this.#locks.set(name, settled);
    try {
      return await current;
    } finally {
      if (this.#locks.get(name) === settled) this.#locks.delete(name);
    }
  }

  broadcast(topic: string, payload: string): void {
    for (const handler of this.#topics.get(topic) ?? []) handler(payload);
  }

  async on(topic: string, handler: (payload: string) => void): Promise<() => void> {
    let handlers = this.#topics.get(topic);
    if (!handlers) this.#topics.set(topic, (handlers = new Set()));
    handlers.add(handler);
    return () => handlers.delete(handler);
  }
}
