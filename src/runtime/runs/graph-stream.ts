/**
 * Runs a graph call and yields its stream chunks as broker events (`{mode, ns, data}`).
 *
 * graph.stream yields `[mode, data]`, or `[ns, mode, data]` with `subgraphs`; both become one
 * shape. When the run asks for the `events` stream mode (LangChain callback events), the graph
 * runs through streamEvents instead: the root graph's `on_chain_stream` events carry the same
 * chunks, and every other event becomes an `events` chunk.
 */
import type { AnyCompiledGraph } from "../graphs/index.js";
import type { RunEvent } from "./broker.js";
import type { GraphCall } from "./graph-call.js";

export type StreamChunk = Omit<RunEvent, "id">;

/** The parts of a LangChain stream event (streamEvents v2) this module reads. */
interface CallbackEvent {
  event: string;
  run_id: string;
  tags?: string[];
  data: { chunk?: unknown };
}

function toChunk(raw: unknown, subgraphs: boolean): StreamChunk {
  if (subgraphs) {
    const [ns, mode, data] = raw as [string[], string, unknown];
    return { mode, ns, data };
  }
  const [mode, data] = raw as [string, unknown];
  return { mode, ns: [], data };
}

export async function* streamGraph(graph: AnyCompiledGraph, call: GraphCall, runId: string, signal: AbortSignal): AsyncGenerator<StreamChunk> {
  const options = { ...call.config, ...call.options, streamMode: call.streamModes, runId, signal, ...(call.protocol ? { version: "v3" } : {}) };
  if (!call.callbackEvents) {
    const stream = await graph.stream(call.input, options as never);
    for await (const raw of stream as AsyncIterable<unknown>) yield toChunk(raw, call.options.subgraphs);
    return;
  }
  const events = graph.streamEvents(call.input, { ...options, version: "v2" } as never) as unknown as AsyncIterable<CallbackEvent>;
  for await (const event of events) {
    if (event.tags?.includes("langsmith:hidden")) continue;
    if (event.event === "on_chain_stream" && event.run_id === runId) {
      const chunk = toChunk(event.data.chunk, call.options.subgraphs);
      // streamEvents adds modes of its own (e.g. checkpoints); pass on only the requested ones
      if ((call.streamModes as string[]).includes(chunk.mode)) yield chunk;
    } else {
      yield { mode: "events", ns: [], data: event };
    }
  }
}
