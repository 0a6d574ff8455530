/**
 * interrupt: human in the loop. "write_draft" writes a draft, "ask_human" pauses with interrupt()
 * asking for a decision, "finish" uses the resume value.
 *
 *   input  {"topic": "cats"}
 *   -> pauses; the interrupt value is {"question": "Approve the draft?", "draft": "Draft about cats"}
 *   resume Command({resume: "approved"})
 *   output {"topic": "cats", "draft": "Draft about cats", "decision": "approved",
 *           "result": "Draft about cats (approved)"}
 *
 * Needs a checkpointer (the server provides one; tests use MemorySaver) and a thread_id.
 */
import { Annotation, StateGraph, interrupt } from "@langchain/langgraph";

export const InterruptInputAnnotation = Annotation.Root({
  topic: Annotation<string>,
});

export const InterruptStateAnnotation = Annotation.Root({
  topic: Annotation<string>,
  draft: Annotation<string>,
  decision: Annotation<string>,
  result: Annotation<string>,
});

export const graph = new StateGraph({ stateSchema: InterruptStateAnnotation, input: InterruptInputAnnotation })
  .addNode("write_draft", (state) => ({ draft: `Draft about ${state.topic}` }))
  .addNode("ask_human", (state) => {
    const decision = interrupt<{ question: string; draft: string }, unknown>({
      question: "Approve the draft?",
      draft: state.draft,
    });
    return { decision: typeof decision === "string" ? decision : JSON.stringify(decision) };
  })
  .addNode("finish", (state) => ({ result: `${state.draft} (${state.decision})` }))
  .addEdge("__start__", "write_draft")
  .addEdge("write_draft", "ask_human")
  .addEdge("ask_human", "finish")
  .addEdge("finish", "__end__")
  .compile();
