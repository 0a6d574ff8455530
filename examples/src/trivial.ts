/**
 * trivial: three nodes in a row, each adding 1. Minimal work, for latency benchmarks.
 *
 *   input {"value": 1} -> output {"value": 4}
 */
import { Annotation, StateGraph } from "@langchain/langgraph";

export const TrivialStateAnnotation = Annotation.Root({
  value: Annotation<number>,
});

const inc = (state: typeof TrivialStateAnnotation.State) => ({ value: (state.value ?? 0) + 1 });

export const graph = new StateGraph(TrivialStateAnnotation)
  .addNode("a", inc)
  .addNode("b", inc)
  .addNode("c", inc)
  .addEdge("__start__", "a")
  .addEdge("a", "b")
  .addEdge("b", "c")
  .addEdge("c", "__end__")
  .compile();
