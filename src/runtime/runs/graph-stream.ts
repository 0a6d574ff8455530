/**
 * Runs a graph call and yields its stream chunks as broker events (`{mode, ns, data}`).
 * graph.stream yields `[mode, data]`, or `[ns, mode, data]` with `subgraphs`; both become one shape.
 */
import type { AnyCompiledGraph } from "../graphs/index.js";
import type { RunEvent } from "./broker.js";
import type { GraphCall } from "./graph-call.js";

export type StreamChunk = Omit<RunEvent, "id">;

export async function* streamGraph(
  graph: AnyCompiledGraph,
  call: GraphCall,
  signal: AbortSignal,
): AsyncGenerator<StreamChunk> {
  const stream = await graph.stream(call.input as never, {
    ...call.config,
    ...call.options,
    streamMode: call.streamModes,
    signal,
  } as never);
  for await (const chunk of stream as AsyncIterable<unknown[]>) {
    if (call.options.subgraphs) {
      const [ns, mode, data] = chunk as [string[], string, unknown];
      yield { mode, ns, data };
    } else {
      const [mode, data] = chunk as [string, unknown];
      yield { mode, ns: [], data };
    }
  }
}
