/**
 * A run's events on their way to the broker. Those made in one event-loop turn are published
 * together at its end (one delivery per turn for a run writing many events at once), or as soon
 * as BATCH of them wait (a graph writing thousands in one turn streams them meanwhile). Once the
 * graph has ended, the events still waiting are held back and published just before the run's
 * end, which the executor announces only once it is durable: a client gets the run's last
 * events and its end together, so it never holds the run's final state before that state is
 * durable, and its stream closes right after its last event.
 */
import type { RunEventBroker } from "./broker.js";
import type { StreamChunk } from "./graph-stream.js";

/** Events waiting before they go out without waiting for the end of the turn. */
const BATCH = 64;

export class RunEventRelay {
  #waiting: StreamChunk[] = [];
  #scheduled = false;
  #holding = false;

  constructor(
    private readonly broker: RunEventBroker,
    private readonly runId: string,
  ) {}

  send(event: StreamChunk): void {
    this.#waiting.push(event);
    if (this.#holding) return;
    if (this.#waiting.length >= BATCH) {
      this.flush();
      return;
    }
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      if (!this.#holding) this.flush();
    });
  }

  /** The graph has ended: what waits now goes out with the run's end (`flush` right before it). */
  hold(): void {
    this.#holding = true;
  }

  /** Publishes every waiting event, in order. */
  flush(): void {
    const events = this.#waiting;
    this.#waiting = [];
    for (const event of events) this.broker.publish(this.runId, event);
  }
}
