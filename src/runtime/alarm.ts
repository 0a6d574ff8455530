/**
 * One timer set to the earliest moment something is due: the event-driven alternative to polling.
 * `armAt` only ever moves the alarm earlier; when it rings, `ring` does the due work and returns
 * when the next thing is due (or Infinity), and the alarm re-arms itself for that. A ring that
 * fails (the database is away) rings again after a backoff (1 s doubling to a minute), so the
 * work resumes by itself once the failure passes.
 */
const FIRST_RETRY_MS = 1_000;
const MAX_RETRY_MS = 60_000;

export class Alarm {
  #timer: NodeJS.Timeout | null = null;
  #armedFor = Infinity;
  #ringing: Promise<void> | null = null;
  #stopped = false;
  #retryMs = FIRST_RETRY_MS;

  constructor(
    private readonly ring: () => Promise<number>,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Rings now (e.g. for work left over from a previous process). */
  async ringNow(): Promise<void> {
    await this.#run();
  }

  armAt(at: number): void {
    if (this.#stopped || at >= this.#armedFor) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#armedFor = at;
    // setTimeout holds at most ~24.8 days; a later moment simply re-arms when this fires
    const delay = Math.min(Math.max(0, at - Date.now()), 2_000_000_000);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#armedFor = Infinity;
      void this.#run();
    }, delay);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#ringing;
  }

  async #run(): Promise<void> {
    if (this.#ringing) return this.#ringing;
    this.#ringing = (async () => {
      try {
        const next = await this.ring();
        this.#retryMs = FIRST_RETRY_MS;
        if (next !== Infinity) this.armAt(next);
      } catch (error) {
        this.onError(error);
        this.armAt(Date.now() + this.#retryMs);
        this.#retryMs = Math.min(this.#retryMs * 2, MAX_RETRY_MS);
      } finally {
        this.#ringing = null;
      }
    })();
    return this.#ringing;
  }
}
