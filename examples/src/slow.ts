/**
 * slow: for cancellation and timeout tests. The "work" node runs `steps` times (default 3),
 * each time waiting `delay_ms` (default 1000). The delay comes from `configurable.delay_ms`,
 * else from the input's `delay_ms`. The wait honours the run's abort signal, so a cancelled run
 * stops promptly instead of sleeping on.
 *
 *   input  {"steps": 2, "delay_ms": 10}
 *   output {"steps": 2, "delay_ms": 10, "completed": 2, "log": ["step 1", "step 2"]}
 */
import { Annotation, StateGraph, type LangGraphRunnableConfig } from "@langchain/langgraph";
import { abortableDelay } from "./echo_model.js";

export const SlowInputAnnotation = Annotation.Root({
  steps: Annotation<number>,
  delay_ms: Annotation<number>,
});

export const SlowStateAnnotation = Annotation.Root({
  steps: Annotation<number>,
  delay_ms: Annotation<number>,
  completed: Annotation<number>,
  log: Annotation<string[]>({ reducer: (left, right) => left.concat(right), default: () => [] }),
});

export const SlowConfigAnnotation = Annotation.Root({
  /** Milliseconds each step waits; overrides the input's delay_ms. */
  delay_ms: Annotation<number>,
});

export const DEFAULT_STEPS = 3;
export const DEFAULT_DELAY_MS = 1000;

function delayOf(state: typeof SlowStateAnnotation.State, config: LangGraphRunnableConfig): number {
  const fromConfig = Number(config.configurable?.delay_ms);
  if (Number.isFinite(fromConfig) && fromConfig >= 0) return fromConfig;
  if (typeof state.delay_ms === "number" && state.delay_ms >= 0) return state.delay_ms;
  return DEFAULT_DELAY_MS;
}

async function work(state: typeof SlowStateAnnotation.State, config: LangGraphRunnableConfig) {
  await abortableDelay(delayOf(state, config), config.signal);
  const completed = (state.completed ?? 0) + 1;
  return { completed, log: [`step ${completed}`] };
}

export const graph = new StateGraph({ stateSchema: SlowStateAnnotation, input: SlowInputAnnotation }, SlowConfigAnnotation)
  .addNode("work", work)
  .addEdge("__start__", "work")
  .addConditionalEdges("work", (state) => ((state.completed ?? 0) < (state.steps ?? DEFAULT_STEPS) ? "work" : "__end__"), ["work", "__end__"])
  .compile();
