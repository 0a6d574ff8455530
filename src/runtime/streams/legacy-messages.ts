/**
 * The legacy `messages` stream mode of the LangGraph Platform, made from LangGraph's message
 * chunks and the state values of one run:
 * - `messages/metadata` `{<id>: {metadata}}` when a streamed message first appears;
 * - `messages/partial` `[message so far]` for every token (chunks of one id accumulated);
 * - `messages/complete` `[messages]` for the messages of a state that were not completed yet
 *   (the input's messages included), once per id.
 * Only model tokens make partials (message chunks); whole messages a node returns are complete
 * messages, seen in the state. State is per run: the translator of one run owns one instance.
 */
import { isBaseMessage, isBaseMessageChunk, type BaseMessageChunk } from "@langchain/core/messages";
import type { StreamChunk } from "../runs/graph-stream.js";
import { payload } from "./payloads.js";

const idOf = (message: unknown): string | undefined => {
  const id = (message as { id?: unknown } | null)?.id;
  return typeof id === "string" && id !== "" ? id : undefined;
};

export class LegacyMessages {
  /** Message id -> the chunks streamed so far, concatenated; dropped once the message completes. */
  readonly #partial = new Map<string, BaseMessageChunk>();
  readonly #completed = new Set<string>();

  /** A `[message, metadata]` chunk of LangGraph's `messages` mode. */
  fromTuple(ns: string[], tuple: unknown): StreamChunk[] {
    const [message, metadata] = Array.isArray(tuple) ? tuple : [];
    const id = idOf(message);
    if (!id || !isBaseMessageChunk(message) || this.#completed.has(id)) return [];
    const events: StreamChunk[] = [];
    const previous = this.#partial.get(id);
    if (!previous) {
      const meta = payload({ [id]: { metadata } });
      events.push({ mode: "messages/metadata", ns, data: meta.data, size: meta.size });
    }
    const accumulated = previous ? previous.concat(message) : message;
    this.#partial.set(id, accumulated);
    const partial = payload([accumulated]);
    events.push({ mode: "messages/partial", ns, data: partial.data, size: partial.size });
    return events;
  }

  /** A chunk of LangGraph's `values` mode: its `messages` not completed yet. */
  fromValues(ns: string[], values: unknown): StreamChunk[] {
    const raw = (values as { messages?: unknown } | null)?.messages;
    const messages = Array.isArray(raw) ? raw : isBaseMessage(raw) ? [raw] : [];
    const fresh = messages.filter((message) => {
      const id = idOf(message);
      if (!id || this.#completed.has(id)) return false;
      this.#completed.add(id);
      this.#partial.delete(id);
      return true;
    });
    if (fresh.length === 0) return [];
    const complete = payload(fresh);
    return [{ mode: "messages/complete", ns, data: complete.data, size: complete.size }];
  }
}
