/**
 * stamped: the trivial graph's three nodes, where the first records when it started and the
 * last when it finished (epoch ms, sub-millisecond precision). The benchmark runs the server in
 * its own process, so these clocks compare with the client's.
 */
import { Annotation, StateGraph } from "@langchain/langgraph";

const nowMs = () => performance.timeOrigin + performance.now();

const State = Annotation.Root({
  value: Annotation<number>,
  started_at: Annotation<number>,
  finished_at: Annotation<number>,
});

export const graph = new StateGraph(State)
  .addNode("a", (s) => ({ value: (s.value ?? 0) + 1, started_at: nowMs() }))
  .addNode("b", (s) => ({ value: s.value + 1 }))
  .addNode("c", (s) => ({ value: s.value + 1, finished_at: nowMs() }))
  .addEdge("__start__", "a")
  .addEdge("a", "b")
  .addEdge("b", "c")
  .addEdge("c", "__end__")
  .compile();
