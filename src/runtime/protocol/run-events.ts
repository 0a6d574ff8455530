/**
 * One protocol run's broker events as the protocol's events: the stored ones framed
 * (`{type: "event", event_id, seq, method, params}`), plus the root graph's lifecycle, which
 * depends on how the run went: `running` when an attempt starts (its `metadata` event), then
 * `completed`, `interrupted` (waiting at an interrupt, or stopped) or `failed` at its end; a
 * subgraph still open then (the run stopped inside it) ends with the root's status first. Every
 * field comes from the stored events and the run's outcome, so every reader, in any process,
 * sees the same `seq` and `event_id` for the same event.
 */
import type { components } from "../../../generated/openapi.js";
import type { RunEvent, RunOutcome } from "../runs/broker.js";
import type { ProtocolEventBody } from "../streams/protocol-events.js";

export type ProtocolEvent = components["schemas"]["ProtocolEvent"];
type AgentStatus = components["schemas"]["ProtocolAgentStatus"];

type Dict = Record<string, unknown>;
const isDict = (value: unknown): value is Dict => value !== null && typeof value === "object" && !Array.isArray(value);

export function frame(seq: number, method: string, namespace: string[], body: Omit<ProtocolEventBody, "seq">): ProtocolEvent {
  return { type: "event", event_id: String(seq), seq, method: method as ProtocolEvent["method"], params: { namespace, ...body } };
}

function hasPendingInterrupts(values: unknown): boolean {
  return isDict(values) && Array.isArray(values.__interrupt__) && values.__interrupt__.length > 0;
}

/** The root graph's status at the run's end. */
export function endStatus(outcome: RunOutcome): AgentStatus {
  switch (outcome.status) {
    case "success":
      return hasPendingInterrupts(outcome.values) ? "interrupted" : "completed";
    case "interrupted":
      return "interrupted";
    default:
      return "failed";
  }
}

function errorMessage(error: unknown): string {
  if (isDict(error) && typeof error.message === "string") return error.message;
  return typeof error === "string" ? error : JSON.stringify(error);
}

export class RunProtocolEvents {
  /** The last seq of the run's events so far; the end takes the next one. */
  #seq = 0;
  #ended = false;
  /** Subgraphs started and not ended (namespace key -> namespace), deepest last. */
  readonly #open = new Map<string, string[]>();

  constructor(private readonly runId: string) {}

  /** The protocol events a broker event of the run stands for (none for a legacy run's events). */
  event(event: RunEvent): ProtocolEvent[] {
    if (event.mode === "metadata") {
      const base = isDict(event.data) ? event.data.seq_base : undefined;
      if (typeof base !== "number") return [];
      this.#seq = base;
      this.#ended = false;
      this.#open.clear();
      return [this.#lifecycle(base, "running", Math.floor(base / 1000))];
    }
    if (event.mode === "error") {
      // the run failed: its end follows
      if (this.#seq === 0) return [];
      this.#ended = true;
      const error = errorMessage(event.data);
      return [...this.#closeSubgraphs("failed", error), this.#lifecycle(++this.#seq, "failed", Date.now(), error)];
    }
    const body = event.data as ProtocolEventBody | null;
    if (!isDict(body) || typeof body.seq !== "number") return [];
    const { seq, ...params } = body;
    this.#seq = seq;
    if (event.mode === "lifecycle" && event.ns.length > 0) {
      const key = JSON.stringify(event.ns);
      if ((params.data as { event?: string } | null)?.event === "started") this.#open.set(key, event.ns);
      else this.#open.delete(key);
    }
    return [frame(seq, event.mode, event.ns, params)];
  }

  /** The root's last lifecycle event, unless a failure already said it (or the end is not known). */
  end(outcome: RunOutcome): ProtocolEvent[] {
    if (this.#ended || this.#seq === 0 || outcome.unstored) return [];
    this.#ended = true;
    const status = endStatus(outcome);
    const error = status === "failed" && outcome.error ? outcome.error.message : undefined;
    return [...this.#closeSubgraphs(status, error), this.#lifecycle(++this.#seq, status, Date.now(), error)];
  }

  /** The subgraphs the run stopped inside end with it, deepest first. */
  #closeSubgraphs(status: AgentStatus, error: string | undefined): ProtocolEvent[] {
    const open = [...this.#open.values()].reverse();
    this.#open.clear();
    return open.map((namespace) =>
      frame(++this.#seq, "lifecycle", namespace, {
        timestamp: Date.now(),
        data: { event: status, graph_name: namespace.at(-1)!.split(":")[0], ...(error !== undefined ? { error } : {}) },
      }),
    );
  }

  #lifecycle(seq: number, status: AgentStatus, timestamp: number, error?: string): ProtocolEvent {
    return frame(seq, "lifecycle", [], { timestamp, data: { event: status, run_id: this.runId, ...(error !== undefined ? { error } : {}) } });
  }
}
