/**
 * Turns the raw chunks of a run's graph stream (LangGraph stream modes, plus LangChain callback
 * events under `events`) into the run's API stream events, the ones the broker carries and SSE
 * sends. An API event's `mode` is its SSE event name without the namespace suffix:
 * `values`, `updates`, `custom`, `tools`, `debug`, `tasks`, `checkpoints`, `events`,
 * `messages` (the `[message, metadata]` tuple of the `messages-tuple` mode) and
 * `messages/metadata|partial|complete` (the legacy `messages` mode).
 *
 * Only the modes the run asked for produce events (LangGraph may be asked for more, e.g. values
 * for the legacy messages); every payload is plain JSON.
 */
import type { StreamChunk } from "../runs/graph-stream.js";
import type { StreamMode } from "../runs/request.js";
import { LegacyMessages } from "./legacy-messages.js";
import { payload, streamCheckpoint, streamDebug, streamTask, streamToolEvent } from "./payloads.js";

/** LangGraph's lightweight checkpoint marker (not a checkpoint): streamEvents may add them. */
const isCheckpointEnvelope = (data: unknown) => data !== null && typeof data === "object" && !("values" in data) && !("config" in data);

/** The id of the checkpoint a `checkpoints` chunk announces. */
function rootCheckpointId(data: unknown): string | undefined {
  const id = (data as { config?: { configurable?: { checkpoint_id?: unknown } } }).config?.configurable?.checkpoint_id;
  return typeof id === "string" ? id : undefined;
}

/** Modes whose payload needs shaping beyond plain JSON. */
const SHAPERS: Partial<Record<string, (data: unknown) => unknown>> = {
  checkpoints: streamCheckpoint,
  debug: streamDebug,
  tasks: streamTask,
  tools: streamToolEvent,
};

export class RunStreamTranslator {
  readonly #modes: ReadonlySet<string>;
  readonly #legacy: LegacyMessages | null;
  /** The root graph's latest checkpoint so far: every event after it carries its id. */
  #checkpointId: string | undefined;

  constructor(requested: readonly StreamMode[]) {
    this.#modes = new Set(requested);
    this.#legacy = this.#modes.has("messages") ? new LegacyMessages() : null;
  }

  translate(chunk: StreamChunk): StreamChunk[] {
    const events = this.#translate(chunk);
    if (this.#checkpointId !== undefined) for (const event of events) event.checkpointId = this.#checkpointId;
    return events;
  }

  #translate(chunk: StreamChunk): StreamChunk[] {
    const { mode, ns, data } = chunk;
    const events: StreamChunk[] = [];
    if (mode === "messages") {
      if (this.#modes.has("messages-tuple")) events.push(this.#event("messages", ns, data));
      if (this.#legacy) events.push(...this.#legacy.fromTuple(ns, data));
      return events;
    }
    if (mode === "checkpoints") {
      if (isCheckpointEnvelope(data)) return events;
      if (ns.length === 0) this.#checkpointId = rootCheckpointId(data) ?? this.#checkpointId;
    }
    if (this.#modes.has(mode)) {
      const shape = SHAPERS[mode];
      events.push(this.#event(mode, ns, shape ? shape(data) : data));
    }
    // after the values event itself: a client sees the state, then which of its messages completed
    if (mode === "values" && this.#legacy) events.push(...this.#legacy.fromValues(ns, data));
    return events;
  }

  #event(mode: string, ns: string[], data: unknown): StreamChunk {
    const plain = payload(data);
    return { mode, ns, data: plain.data, size: plain.size };
  }
}
