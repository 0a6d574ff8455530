/**
 * What the run page shows of a run's stream: every event in order, and the text of each message
 * as its tokens arrive (`messages-tuple` chunks, from the root graph and any subgraph).
 */
import { messageText } from "./message-text.js";

export interface ShownEvent {
  id: string | undefined;
  event: string;
  data: unknown;
}

export interface StreamedMessage {
  id: string;
  /** The namespace (`|`-joined) of the subgraph that streamed it; "" for the root graph. */
  namespace: string;
  node: string | undefined;
  text: string;
}

export interface RunStreamView {
  events: ShownEvent[];
  messages: StreamedMessage[];
}

/** The most events the page keeps (the oldest are dropped). */
const MAX_EVENTS = 2000;

export const EMPTY_STREAM: RunStreamView = { events: [], messages: [] };

export function withEvent(view: RunStreamView, event: ShownEvent): RunStreamView {
  const events = view.events.length >= MAX_EVENTS ? [...view.events.slice(1), event] : [...view.events, event];
  const [kind, ...namespace] = event.event.split("|");
  if (kind !== "messages" || !Array.isArray(event.data)) return { ...view, events };
  const [chunk, metadata] = event.data as [{ id?: string; content?: unknown } | undefined, { langgraph_node?: string } | undefined];
  if (!chunk?.id) return { ...view, events };
  const text = messageText(chunk.content);
  const index = view.messages.findIndex((message) => message.id === chunk.id);
  const messages =
    index < 0
      ? [...view.messages, { id: chunk.id, namespace: namespace.join("|"), node: metadata?.langgraph_node, text }]
      : view.messages.map((message, i) => (i === index ? { ...message, text: message.text + text } : message));
  return { events, messages };
}
