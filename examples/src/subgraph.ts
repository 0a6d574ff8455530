/**
 * subgraph: a parent graph whose middle node is a compiled subgraph.
 *
 *   parent: prepare -> child (subgraph: child_step_1 -> child_step_2) -> finish
 *   input  {"text": " hi "}
 *   output {"text": "HI!", "trail": ["prepare", "finish"],
 *           "child_trail": ["child_step_1", "child_step_2"], "result": "HI! (child ran 2 steps)"}
 *
 * Parent and child share `text` and `child_trail`; the parent's own `trail` is not in the
 * child's state, so the child's output does not re-append it. Stream with `subgraphs: true`
 * to see the child's events under the "child:<task id>" namespace.
 */
import { Annotation, StateGraph } from "@langchain/langgraph";

const appendList = () =>
  Annotation<string[]>({
    reducer: (left, right) => left.concat(right),
    default: () => [],
  });

export const ChildStateAnnotation = Annotation.Root({
  text: Annotation<string>,
  child_trail: appendList(),
});

export const ParentStateAnnotation = Annotation.Root({
  text: Annotation<string>,
  trail: appendList(),
  child_trail: Annotation<string[]>,
  result: Annotation<string>,
});

export const ParentInputAnnotation = Annotation.Root({
  text: Annotation<string>,
});

export const child = new StateGraph(ChildStateAnnotation)
  .addNode("child_step_1", (state) => ({ text: state.text.toUpperCase(), child_trail: ["child_step_1"] }))
  .addNode("child_step_2", (state) => ({ text: `${state.text}!`, child_trail: ["child_step_2"] }))
  .addEdge("__start__", "child_step_1")
  .addEdge("child_step_1", "child_step_2")
  .addEdge("child_step_2", "__end__")
  .compile();

export const graph = new StateGraph({ stateSchema: ParentStateAnnotation, input: ParentInputAnnotation })
  .addNode("prepare", (state) => ({ text: state.text.trim(), trail: ["prepare"] }))
  .addNode("child", child)
  .addNode("finish", (state) => ({
    trail: ["finish"],
    result: `${state.text} (child ran ${state.child_trail?.length ?? 0} steps)`,
  }))
  .addEdge("__start__", "prepare")
  .addEdge("prepare", "child")
  .addEdge("child", "finish")
  .addEdge("finish", "__end__")
  .compile();
