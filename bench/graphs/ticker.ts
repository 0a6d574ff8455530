/**
 * ticker: writes `count` custom events (default 20), `interval_ms` apart (default 5), each
 * stamped with the moment it was written (epoch ms, sub-millisecond precision), so a client in
 * another process can measure how long an event took to reach it.
 */
import { Annotation, StateGraph, type LangGraphRunnableConfig } from "@langchain/langgraph";

const nowMs = () => performance.timeOrigin + performance.now();

const State = Annotation.Root({
  count: Annotation<number>,
  interval_ms: Annotation<number>,
});

export const graph = new StateGraph(State)
  .addNode("tick", async (state, config: LangGraphRunnableConfig) => {
    for (let i = 0; i < (state.count ?? 20); i++) {
      config.writer?.({ n: i, at: nowMs() });
      await new Promise((resolve) => setTimeout(resolve, state.interval_ms ?? 5));
    }
    return {};
  })
  .addEdge("__start__", "tick")
  .addEdge("tick", "__end__")
  .compile();
