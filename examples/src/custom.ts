/**
 * custom: emits custom stream events through the writer (LangGraphRunnableConfig.writer), seen
 * with streamMode "custom".
 *
 *   input  {"count": 3}
 *   custom events: {"type": "progress", "step": 1, "total": 3} ... step 3, then
 *                  {"type": "done", "total": 3}
 *   output {"count": 3, "result": "emitted 3 progress events"}
 */
import { Annotation, StateGraph, type LangGraphRunnableConfig } from "@langchain/langgraph";

export const CustomInputAnnotation = Annotation.Root({
  count: Annotation<number>,
});

export const CustomStateAnnotation = Annotation.Root({
  count: Annotation<number>,
  result: Annotation<string>,
});

export const graph = new StateGraph({ stateSchema: CustomStateAnnotation, input: CustomInputAnnotation })
  .addNode("emit", (state, config: LangGraphRunnableConfig) => {
    const total = Math.max(0, Math.floor(state.count ?? 3));
    for (let step = 1; step <= total; step++) config.writer?.({ type: "progress", step, total });
    config.writer?.({ type: "done", total });
    return { result: `emitted ${total} progress events` };
  })
  .addEdge("__start__", "emit")
  .addEdge("emit", "__end__")
  .compile();
