/**
 * Webhook delivery: when a run ends, POST `{...run, values, error}` as JSON to the run's webhook
 * URL. Failed attempts (network error, timeout, non-2xx) are retried with exponential backoff;
 * the final failure is logged. Delivery never affects the run: it starts after the run's end is
 * stored and nothing awaits it except shutdown.
 */
import type { Logger } from "pino";

export interface WebhookOptions {
  /** Attempts in all (default 4). */
  attempts?: number;
  /** Wait before the first retry; doubles each time (default 500 ms). */
  initialBackoffMs?: number;
  /** Per-attempt timeout (default 10 s). */
  timeoutMs?: number;
  /** False: nothing is sent (`http.disable_webhooks`; a cron made before it still names one). */
  enabled?: boolean;
}

export class WebhookSender {
  readonly #inFlight = new Set<Promise<void>>();
  readonly #stop = new AbortController();
  readonly #attempts: number;
  readonly #backoffMs: number;
  readonly #timeoutMs: number;
  readonly #enabled: boolean;

  constructor(
    private readonly logger: Logger,
    options: WebhookOptions = {},
  ) {
    this.#attempts = options.attempts ?? 4;
    this.#backoffMs = options.initialBackoffMs ?? 500;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#enabled = options.enabled ?? true;
  }

  /** Starts delivery in the background. */
  send(url: string, payload: unknown, context: Record<string, unknown>): void {
    if (!this.#enabled) {
      this.logger.info({ ...context, webhook: url }, "webhook not sent: webhooks are disabled (http.disable_webhooks)");
      return;
    }
    const delivery = this.#deliver(url, JSON.stringify(payload), context).finally(() => this.#inFlight.delete(delivery));
    this.#inFlight.add(delivery);
  }

  /** Gives pending deliveries up to `graceMs`, then abandons the rest (logged). */
  async close(graceMs: number): Promise<void> {
    if (this.#inFlight.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
    await Promise.race([Promise.allSettled([...this.#inFlight]), grace]);
    clearTimeout(timer);
    this.#stop.abort();
    await Promise.allSettled([...this.#inFlight]);
  }

  async #deliver(url: string, body: string, context: Record<string, unknown>): Promise<void> {
    let backoff = this.#backoffMs;
    for (let attempt = 1; ; attempt++) {
      const problem = await this.#post(url, body);
      if (problem === null) return;
      if (attempt >= this.#attempts || this.#stop.signal.aborted) {
        this.logger.warn({ ...context, webhook: url, attempts: attempt, problem }, "webhook delivery failed");
        return;
      }
      this.logger.debug({ ...context, webhook: url, attempt, problem }, "webhook attempt failed; retrying");
      if (!(await this.#pause(backoff))) {
        this.logger.warn({ ...context, webhook: url, attempts: attempt, problem }, "webhook delivery abandoned at shutdown");
        return;
      }
      backoff *= 2;
    }
  }

  /** One POST; null on success, else what went wrong. */
  async #post(url: string, body: string): Promise<string | null> {
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
        signal: AbortSignal.any([AbortSignal.timeout(this.#timeoutMs), this.#stop.signal]),
      });
      await response.body?.cancel();
      return response.ok ? null : `HTTP ${response.status}`;
    } catch (error) {
      return (error as Error).message ?? String(error);
    }
  }

  /** Waits `ms` unless shutdown comes first; false if it did. */
  #pause(ms: number): Promise<boolean> {
    const signal = this.#stop.signal;
    if (signal.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
        resolve(ok);
      };
      const onAbort = () => done(false);
      const timer = setTimeout(() => done(true), ms);
      signal.addEventListener("abort", onAbort, { once: true });
    });
  }
}
