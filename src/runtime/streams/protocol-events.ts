/**
 * The graph stream of a run started through the thread-centric protocol (v2), turned into the
 * run's broker events: one per protocol event, `mode` being the event's method (`values`,
 * `updates`, `messages`, `tools`, `custom`, `tasks`, `checkpoints`, `input.requested`), `ns` its
 * namespace and `data` its params without the namespace (`{timestamp, node?, data}`), as plain
 * JSON, with its `seq` on the thread (numbered from the attempt's `seq_base`, see
 * protocol/sequence.ts). Stored like any run's events, so every process serving the thread reads
 * the same ones; `protocol/run-events.ts` frames them and adds the root graph's lifecycle.
 *
 * The graph runs in LangGraph's protocol mode (`version: "v3"`): its `messages` chunks are
 * content-block events already, converted by `convertToProtocolEvent`. Interrupts in `values`
 * and `updates` become `input.requested` events, once per interrupt. A subgraph's lifecycle is
 * told from the graph's own events: `started` before its first state event (values, updates,
 * tasks, checkpoints: a node's messages carry its namespace too, but only a graph has state),
 * then `completed`, `failed` or `interrupted` with its task's result in the parent graph.
 */
import { convertToProtocolEvent } from "@langchain/langgraph/stream";
import type { StreamMode as GraphStreamMode } from "@langchain/langgraph";
import type { StreamChunk } from "../runs/graph-stream.js";
import { payload } from "./payloads.js";

/** What a protocol run asks of graph.stream. */
export const PROTOCOL_GRAPH_MODES: GraphStreamMode[] = ["values", "updates", "messages", "custom", "tasks", "tools", "checkpoints"];

/** The params of a protocol event, as a broker event's `data` holds them. */
export interface ProtocolEventBody {
  seq: number;
  timestamp: number;
  node?: string;
  data: unknown;
}

type Dict = Record<string, unknown>;

/** Chunks only a graph emits (a node's messages, tools and custom events carry its namespace too). */
const STATE_MODES = new Set(["values", "updates", "tasks", "checkpoints"]);

/** The graph a namespace segment names (`child:<task id>` is graph `child`). */
const graphName = (segment: string) => segment.split(":")[0];
const isDict = (value: unknown): value is Dict => value !== null && typeof value === "object" && !Array.isArray(value);

function checkpointIdOf(config: unknown): string | undefined {
  const id = isDict(config) && isDict(config.configurable) ? config.configurable.checkpoint_id : undefined;
  return typeof id === "string" ? id : undefined;
}

/** The `checkpoints` channel's envelope of a full checkpoint: its id, parent, step and source. */
function checkpointEnvelope(checkpoint: Dict): Dict | null {
  const id = checkpointIdOf(checkpoint.config);
  if (id === undefined) return null;
  const metadata = isDict(checkpoint.metadata) ? checkpoint.metadata : {};
  const parentId = checkpointIdOf(checkpoint.parentConfig);
  return {
    id,
    ...(parentId !== undefined ? { parent_id: parentId } : {}),
    step: typeof metadata.step === "number" ? metadata.step : 0,
    source: typeof metadata.source === "string" ? metadata.source : "loop",
  };
}

/** The interrupts a `values` or `updates` chunk announces, as `input.requested` data. */
function interruptsOf(data: unknown): Dict[] {
  const list = isDict(data) ? data.__interrupt__ : undefined;
  if (!Array.isArray(list)) return [];
  return list
    .filter((entry): entry is Dict => isDict(entry) && typeof entry.id === "string")
    .map((entry) => ({ interrupt_id: entry.id, payload: entry.value }));
}

export class ProtocolStreamTranslator {
  /** The root graph's latest checkpoint so far: every event after it carries its id. */
  #checkpointId: string | undefined;
  readonly #requested = new Set<string>();
  /** Subgraphs started and not ended: namespace key -> namespace. */
  readonly #subgraphs = new Map<string, string[]>();
  readonly #ended = new Set<string>();
  #seq: number;

  /** `seqBase`: the attempt's `seq_base`; its events are numbered after it. */
  constructor(seqBase: number) {
    this.#seq = seqBase;
  }

  translate(chunk: StreamChunk): StreamChunk[] {
    const events = [...this.#subgraphsStarted(chunk), ...this.#translate(chunk), ...this.#subgraphEnded(chunk)];
    if (this.#checkpointId !== undefined) for (const event of events) event.checkpointId = this.#checkpointId;
    return events;
  }

  #translate({ mode, ns, data }: StreamChunk): StreamChunk[] {
    if (mode === "checkpoints") {
      if (!isDict(data) || !("config" in data)) return [];
      const envelope = checkpointEnvelope(data);
      if (!envelope) return [];
      if (ns.length === 0) this.#checkpointId = envelope.id as string;
      return [this.#event("checkpoints", ns, { timestamp: Date.now(), data: envelope })];
    }
    if (mode === "values" || (mode === "updates" && isDict(data) && "__interrupt__" in data)) {
      const events = this.#requests(ns, data);
      if (mode === "updates") return events;
      const { __interrupt__: _interrupts, ...values } = isDict(data) ? data : { value: data };
      // a chunk that only announced interrupts has no state to show
      if (Object.keys(values).length > 0 || !isDict(data) || !("__interrupt__" in data)) {
        events.push(this.#event("values", ns, { timestamp: Date.now(), data: values }));
      }
      return events;
    }
    return convertToProtocolEvent({ namespace: ns, mode: mode as GraphStreamMode, payload: data, seq: 0 }).map((event) => {
      const { namespace: _namespace, ...params } = event.params as unknown as Omit<ProtocolEventBody, "seq"> & { namespace: string[] };
      return this.#event(event.method, ns, params);
    });
  }

  #subgraphsStarted({ mode, ns }: StreamChunk): StreamChunk[] {
    if (ns.length === 0 || !STATE_MODES.has(mode)) return [];
    const events: StreamChunk[] = [];
    for (let length = 1; length <= ns.length; length++) {
      const namespace = ns.slice(0, length);
      const key = JSON.stringify(namespace);
      if (this.#subgraphs.has(key) || this.#ended.has(key)) continue;
      this.#subgraphs.set(key, namespace);
      events.push(
        this.#event("lifecycle", namespace, { timestamp: Date.now(), data: { event: "started", graph_name: graphName(namespace.at(-1)!) } }),
      );
    }
    return events;
  }

  /** A task ending in the parent graph ends the subgraph it ran (its namespace ends with `:<task id>`). */
  #subgraphEnded({ mode, ns, data }: StreamChunk): StreamChunk[] {
    if (mode !== "tasks" || !isDict(data) || typeof data.id !== "string" || !("result" in data || "error" in data)) return [];
    const key = JSON.stringify([...ns, `${String(data.name)}:${data.id}`]);
    const namespace = this.#subgraphs.get(key);
    if (!namespace) return [];
    this.#subgraphs.delete(key);
    this.#ended.add(key);
    const interrupted = Array.isArray(data.interrupts) && data.interrupts.length > 0;
    const status = data.error != null ? "failed" : interrupted ? "interrupted" : "completed";
    const error = data.error != null ? { error: data.error instanceof Error ? data.error.message : String(data.error) } : {};
    return [
      this.#event("lifecycle", namespace, { timestamp: Date.now(), data: { event: status, graph_name: graphName(namespace.at(-1)!), ...error } }),
    ];
  }

  /** `input.answered`: the run resumes these interrupts (sent as it starts, so every client can stop offering them). */
  answered(interruptIds: string[]): StreamChunk {
    return this.#event("input.answered", [], { timestamp: Date.now(), data: { interrupt_ids: interruptIds } });
  }

  #requests(ns: string[], data: unknown): StreamChunk[] {
    const events: StreamChunk[] = [];
    for (const request of interruptsOf(data)) {
      const id = request.interrupt_id as string;
      if (this.#requested.has(id)) continue;
      this.#requested.add(id);
      events.push(this.#event("input.requested", ns, { timestamp: Date.now(), data: request }));
    }
    return events;
  }

  #event(method: string, ns: string[], params: Omit<ProtocolEventBody, "seq">): StreamChunk {
    const plain = payload({ seq: ++this.#seq, ...params });
    return { mode: method, ns, data: plain.data, size: plain.size };
  }
}
