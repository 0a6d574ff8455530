/**
 * A push-to-pull bridge: producers `push` items (from callbacks: broker subscribers, NOTIFY
 * handlers) and one consumer reads them with `for await`. Items are queued per consumer, so a
 * slow reader never blocks the producer; the iteration ends after `end()` once the queue is
 * drained, or at once after `stop()`. `onClose` runs once, whichever way the iteration finishes
 * (end, stop, or the consumer breaking out), to release what feeds the queue.
 */
export class EventQueue<T> implements AsyncIterable<T> {
  readonly #items: T[] = [];
  #wake: (() => void) | null = null;
  #ended = false;
  #stopped = false;
  #closed = false;

  constructor(private readonly onClose: () => void = () => {}) {}

  push(item: T): void {
    if (this.#ended || this.#stopped) return;
    this.#items.push(item);
    this.#notify();
  }

  /** No more items: the iteration ends once the queued ones are read. */
  end(): void {
    this.#ended = true;
    this.#notify();
  }

  /** Ends the iteration now, dropping queued items (the consumer went away). */
  stop(): void {
    this.#stopped = true;
    this.#items.length = 0;
    this.#notify();
    this.#close();
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    try {
      for (;;) {
        while (this.#items.length > 0 && !this.#stopped) yield this.#items.shift()!;
        if (this.#ended || this.#stopped) return;
        await new Promise<void>((resolve) => (this.#wake = resolve));
      }
    } finally {
      this.#close();
    }
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.onClose();
  }
}
