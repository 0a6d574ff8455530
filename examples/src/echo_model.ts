/**
 * EchoChatModel: an offline, deterministic chat model for the example graphs.
 *
 * It replies `Echo: <text of the last human message>` and streams that reply word by word
 * ("Echo:", " hello", " world"), so token streaming and `messages` stream mode can be tested.
 * Each token may be delayed by `tokenDelayMs`; the delay honours the abort signal.
 */
import type { CallbackManagerForLLMRun } from "@langchain/core/callbacks/manager";
import { BaseChatModel, type BaseChatModelParams } from "@langchain/core/language_models/chat_models";
import { AIMessage, AIMessageChunk, type BaseMessage } from "@langchain/core/messages";
import { ChatGenerationChunk, type ChatResult } from "@langchain/core/outputs";

export interface EchoChatModelFields extends BaseChatModelParams {
  /** Milliseconds to wait before each streamed token (default 0). */
  tokenDelayMs?: number;
  /** Prefix of every reply (default "Echo: "). */
  prefix?: string;
}

function textOf(message: BaseMessage): string {
  const { content } = message;
  if (typeof content === "string") return content;
  return content.map((part) => (typeof part === "string" ? part : part.type === "text" ? String(part.text) : "")).join("");
}

/** The reply the model gives to a conversation. */
export function echoReply(messages: BaseMessage[], prefix = "Echo: "): string {
  const lastHuman = [...messages].reverse().find((m) => m.getType() === "human");
  return `${prefix}${lastHuman ? textOf(lastHuman) : ""}`;
}

/** Split into tokens that concatenate back to the text: "Echo: hi there" -> ["Echo:", " hi", " there"]. */
export function tokenize(text: string): string[] {
  return text.match(/\s*\S+|\s+$/g) ?? (text === "" ? [] : [text]);
}

export function abortableDelay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason ?? new Error("Aborted"));
    if (ms <= 0) return resolve();
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason ?? new Error("Aborted"));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

export class EchoChatModel extends BaseChatModel {
  tokenDelayMs: number;
  prefix: string;

  constructor(fields: EchoChatModelFields = {}) {
    const { tokenDelayMs = 0, prefix = "Echo: ", ...rest } = fields;
    super(rest);
    this.tokenDelayMs = tokenDelayMs;
    this.prefix = prefix;
  }

  _llmType(): string {
    return "echo";
  }

  async _generate(messages: BaseMessage[], options: this["ParsedCallOptions"], runManager?: CallbackManagerForLLMRun): Promise<ChatResult> {
    // Not streaming: still emit the tokens as callbacks, then return the whole message.
    const text = echoReply(messages, this.prefix);
    for (const token of tokenize(text)) {
      await abortableDelay(this.tokenDelayMs, options.signal);
      await runManager?.handleLLMNewToken(token);
    }
    return { generations: [{ text, message: new AIMessage(text) }] };
  }

  async *_streamResponseChunks(
    messages: BaseMessage[],
    options: this["ParsedCallOptions"],
    runManager?: CallbackManagerForLLMRun,
  ): AsyncGenerator<ChatGenerationChunk> {
    for (const token of tokenize(echoReply(messages, this.prefix))) {
      await abortableDelay(this.tokenDelayMs, options.signal);
      const chunk = new ChatGenerationChunk({ text: token, message: new AIMessageChunk({ content: token }) });
      yield chunk;
      await runManager?.handleLLMNewToken(token, undefined, undefined, undefined, undefined, { chunk });
    }
  }
}
