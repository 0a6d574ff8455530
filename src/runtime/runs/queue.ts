/**
 * LocalRunQueue: decides when each run starts, in process. Event-driven: a run starts in the
 * same tick that a slot and its thread become free (submit, a run ending, a delay expiring);
 * nothing polls.
 *
 * Rules:
 * - at most `concurrency` runs execute at once;
 * - at most one run per thread; a thread's runs start in order (earliest start time, then
 *   submission order), so `enqueue` runs follow the active one;
 * - a run with `notBefore` in the future waits on its own timer, without holding its thread:
 *   a later run of that thread that is already due may go first (like `after_seconds` upstream,
 *   where the delay pushes the run's start time back);
 * - threads become eligible in the order their head run became due (FIFO fairness).
 */

export interface QueuedRun {
  runId: string;
  threadId: string;
  /** Epoch ms before which the run must not start (0 = now). */
  notBefore: number;
}

export interface LocalRunQueueOptions {
  concurrency: number;
  /** Executes a run; the slot and the thread are free again when the promise settles. */
  execute(run: QueuedRun): Promise<void>;
  onError(error: unknown, run: QueuedRun): void;
}

interface Entry extends QueuedRun {
  timer: NodeJS.Timeout | null;
}

interface ThreadLine {
  /** Run executing on this thread, if any. */
  active: string | null;
  /** Waiting runs, ordered by notBefore, then submission (a later run goes after its equals). */
  waiting: Entry[];
}

export class LocalRunQueue {
  readonly #opts: LocalRunQueueOptions;
  readonly #threads = new Map<string, ThreadLine>();
  /** Threads whose head run is due and that have no active run, oldest first. */
  readonly #ready = new Set<string>();
  readonly #running = new Map<string, Promise<void>>();
  /** Waiting run id -> its thread, so lookups need not scan every line. */
  readonly #waitingThread = new Map<string, string>();
  #stopped = false;

  constructor(options: LocalRunQueueOptions) {
    if (!Number.isInteger(options.concurrency) || options.concurrency < 1) {
      throw new Error(`run concurrency must be a positive integer, got ${options.concurrency}`);
    }
    this.#opts = options;
  }

  /** Adds a run; it starts as soon as it is due and a slot and its thread are free. */
  submit(run: QueuedRun): void {
    if (this.#stopped || this.has(run.runId)) return;
    const entry: Entry = { ...run, timer: null };
    const line = this.#line(run.threadId);
    const at = line.waiting.findIndex((e) => e.notBefore > entry.notBefore);
    line.waiting.splice(at === -1 ? line.waiting.length : at, 0, entry);
    this.#waitingThread.set(run.runId, run.threadId);
    const delay = entry.notBefore - Date.now();
    if (delay > 0) {
      entry.timer = setTimeout(() => {
        entry.timer = null;
        this.#consider(run.threadId);
        this.#pump();
      }, delay);
    }
    this.#consider(run.threadId);
    this.#pump();
  }

  /** Whether the run is waiting or executing here. */
  has(runId: string): boolean {
    return this.#running.has(runId) || this.#findWaiting(runId) !== undefined;
  }

  /** Removes a waiting run; false if it is not waiting (unknown, or already executing). */
  remove(runId: string): boolean {
    const found = this.#findWaiting(runId);
    if (!found) return false;
    const [line, index] = found;
    const [entry] = line.waiting.splice(index, 1);
    this.#waitingThread.delete(runId);
    if (entry.timer) clearTimeout(entry.timer);
    this.#consider(entry.threadId);
    this.#pump();
    return true;
  }

  /** Waiting runs of a thread, in start order. */
  waiting(threadId: string): string[] {
    return (this.#threads.get(threadId)?.waiting ?? []).map((e) => e.runId);
  }

  get runningCount(): number {
    return this.#running.size;
  }

  get waitingCount(): number {
    return this.#waitingThread.size;
  }

  /** Stops starting runs and drops every waiting one (they stay pending in storage). */
  stop(): void {
    this.#stopped = true;
    for (const line of this.#threads.values()) {
      for (const entry of line.waiting) if (entry.timer) clearTimeout(entry.timer);
      line.waiting = [];
    }
    this.#waitingThread.clear();
    this.#ready.clear();
  }

  /** Resolves once no run is executing. */
  async drained(): Promise<void> {
    while (this.#running.size > 0) await Promise.allSettled([...this.#running.values()]);
  }

  #line(threadId: string): ThreadLine {
    let line = this.#threads.get(threadId);
    if (!line) this.#threads.set(threadId, (line = { active: null, waiting: [] }));
    return line;
  }

  #findWaiting(runId: string): [ThreadLine, number] | undefined {
    const threadId = this.#waitingThread.get(runId);
    const line = threadId === undefined ? undefined : this.#threads.get(threadId);
    const index = line ? line.waiting.findIndex((e) => e.runId === runId) : -1;
    return index === -1 ? undefined : [line!, index];
  }

  /** Marks the thread ready when it is idle and has a due run; forgets empty lines. */
  #consider(threadId: string): void {
    const line = this.#threads.get(threadId);
    if (!line) return;
    if (line.active === null && this.#dueIndex(line) !== -1) {
      this.#ready.add(threadId);
      return;
    }
    this.#ready.delete(threadId);
    if (line.active === null && line.waiting.length === 0) this.#threads.delete(threadId);
  }

  /** The first run of the line whose delay has passed (its timer fired or it never had one). */
  #dueIndex(line: ThreadLine): number {
    return line.waiting.findIndex((e) => e.timer === null);
  }

  #pump(): void {
    while (!this.#stopped && this.#running.size < this.#opts.concurrency && this.#ready.size > 0) {
      const threadId = this.#ready.values().next().value!;
      this.#ready.delete(threadId);
      const line = this.#threads.get(threadId)!;
      const index = this.#dueIndex(line);
      if (index === -1 || line.active !== null) continue;
      const [entry] = line.waiting.splice(index, 1);
      this.#waitingThread.delete(entry.runId);
      this.#start(line, entry);
    }
  }

  #start(line: ThreadLine, entry: Entry): void {
    line.active = entry.runId;
    const run: QueuedRun = { runId: entry.runId, threadId: entry.threadId, notBefore: entry.notBefore };
    const execution = Promise.resolve()
      .then(() => this.#opts.execute(run))
      .catch((error: unknown) => this.#opts.onError(error, run))
      .finally(() => {
        this.#running.delete(entry.runId);
        line.active = null;
        this.#consider(entry.threadId);
        this.#pump();
      });
    this.#running.set(entry.runId, execution);
  }
}
