/**
 * agent: a one-node chat agent over MessagesAnnotation, answered by the offline EchoChatModel.
 *
 *   input  {"messages": [{"role": "user", "content": "hello world"}]}
 *   output {"messages": [<human "hello world">, <ai "Echo: hello world">]}
 *
 * The model streams its reply word by word; `configurable.token_delay_ms` delays each token.
 */
import { Annotation, MessagesAnnotation, StateGraph, type LangGraphRunnableConfig } from "@langchain/langgraph";
import { EchoChatModel } from "./echo_model.js";

export const AgentConfigAnnotation = Annotation.Root({
  /** Milliseconds to wait before each streamed token. */
  token_delay_ms: Annotation<number>,
});

async function callModel(state: typeof MessagesAnnotation.State, config: LangGraphRunnableConfig) {
  const tokenDelayMs = Number(config.configurable?.token_delay_ms ?? 0) || 0;
  const model = new EchoChatModel({ tokenDelayMs });
  const reply = await model.invoke(state.messages, config);
  return { messages: [reply] };
}

export const builder = new StateGraph(MessagesAnnotation, AgentConfigAnnotation)
  .addNode("call_model", callModel)
  .addEdge("__start__", "call_model")
  .addEdge("call_model", "__end__");

export const graph = builder.compile();
