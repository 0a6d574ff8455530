/** The stop channel on PostgreSQL: a cancel is a NOTIFY that every process (this one too) receives. */
import type { Logger } from "pino";
import type { StopChannel, StopRequest } from "../runs/engine.js";
import type { Notifications } from "./notifications.js";

export const STOPS_CHANNEL = "lgts_run_stops";

export class PostgresStopChannel implements StopChannel {
  readonly #handlers = new Set<(request: StopRequest) => void>();
  #unlisten: (() => void) | null = null;

  constructor(
    private readonly notifications: Notifications,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    this.#unlisten = await this.notifications.on(STOPS_CHANNEL, (payload) => {
      let request: StopRequest;
      try {
        request = JSON.parse(payload) as StopRequest;
      } catch (error) {
        this.logger.warn({ err: error }, "ignoring a malformed stop notice");
        return;
      }
      for (const handler of this.#handlers) handler(request);
    });
  }

  async send(request: StopRequest): Promise<void> {
    await this.notifications.notify(STOPS_CHANNEL, JSON.stringify(request));
  }

  listen(handler: (request: StopRequest) => void): () => void {
    this.#handlers.add(handler);
    return () => this.#handlers.delete(handler);
  }

  async close(): Promise<void> {
    this.#unlisten?.();
    this.#handlers.clear();
  }
}
