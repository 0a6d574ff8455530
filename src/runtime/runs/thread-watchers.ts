/** Who follows which thread's new runs, for the brokers' `watchThread`. */
export class ThreadWatchers {
  readonly #watchers = new Map<string, Set<(runId: string) => void>>();

  watch(threadId: string, listener: (runId: string) => void): () => void {
    let watchers = this.#watchers.get(threadId);
    if (!watchers) this.#watchers.set(threadId, (watchers = new Set()));
    watchers.add(listener);
    return () => {
      watchers.delete(listener);
      if (watchers.size === 0 && this.#watchers.get(threadId) === watchers) this.#watchers.delete(threadId);
    };
  }

  /** A run of the thread was opened. */
  opened(threadId: string, runId: string): void {
    for (const watcher of [...(this.#watchers.get(threadId) ?? [])]) watcher(runId);
  }

  /** Listeners registered (diagnostics and tests). */
  get count(): number {
    let count = 0;
    for (const watchers of this.#watchers.values()) count += watchers.size;
    return count;
  }
}
