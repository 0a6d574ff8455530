/**
 * The project's agent (no model: it answers from its context, so it runs offline). It greets in
 * the tone its assistant's context sets (LANGGRAPH_CONFIG gives the default assistant one), logs
 * with getLogger(), and shows its answer as a generative-UI card (src/ui.tsx).
 */
import { AIMessage } from "@langchain/core/messages";
import { Annotation, MessagesAnnotation, StateGraph, type LangGraphRunnableConfig } from "@langchain/langgraph";
import { getLogger } from "@langchain/langgraph-sdk/logging";
import { typedUi, uiMessageReducer, type RemoveUIMessage, type UIMessage } from "@langchain/langgraph-sdk/react-ui/server";

const logger = getLogger();

const State = Annotation.Root({
  ...MessagesAnnotation.spec,
  ui: Annotation<UIMessage[], UIMessage | RemoveUIMessage | Array<UIMessage | RemoveUIMessage>>({
    reducer: uiMessageReducer,
    default: () => [],
  }),
});

const Context = Annotation.Root({ tone: Annotation<"cheerful" | "formal"> });

async function answer(state: typeof State.State, config: LangGraphRunnableConfig<typeof Context.State>) {
  const tone = config.context?.tone ?? "formal";
  const question = String(state.messages.at(-1)?.content ?? "");
  const text =
    tone === "cheerful"
      ? `Hi! ${process.env.ASSISTANT_NAME} here: "${question}" is a great question!`
      : `${process.env.ASSISTANT_NAME} received: ${question}`;
  logger.info("answering", { tone, question });
  const message = new AIMessage({ id: crypto.randomUUID(), content: text });
  typedUi(config).push({ name: "answer_card", props: { text, tone } }, { message });
  return { messages: [message] };
}

export const graph = new StateGraph(State, Context).addNode("answer", answer).addEdge("__start__", "answer").addEdge("answer", "__end__").compile();
