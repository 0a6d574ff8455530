/**
 * A2A parts <-> graph values. Text is what a chat graph reads and writes in its `messages`
 * state key; data parts carry the other state keys as they are.
 */
import type { components } from "../../../generated/openapi.js";
import { JsonRpcError } from "../../http/jsonrpc.js";

type Part = components["schemas"]["A2aPart"];
type Message = components["schemas"]["A2aMessage"];

/** The media types this server reads and writes: text parts and data parts. */
export const OUTPUT_MODES = ["text/plain", "application/json"] as const;
export type OutputMode = (typeof OUTPUT_MODES)[number];

/** A2A error code: none of the client's accepted output modes is produced. */
const CONTENT_TYPE_NOT_SUPPORTED = -32005;

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === "object" && !Array.isArray(value);

/** Which of our output modes the client accepts (all when it does not say); none is an error. */
export function acceptedModes(accepted: string[] | undefined): Set<OutputMode> {
  if (accepted === undefined) return new Set(OUTPUT_MODES);
  const matches = (mode: OutputMode) =>
    accepted.some((a) => {
      const wanted = a.split(";")[0].trim().toLowerCase();
      return wanted === mode || wanted === "*/*" || wanted === `${mode.split("/")[0]}/*`;
    });
  const modes = new Set(OUTPUT_MODES.filter(matches));
  if (modes.size === 0) {
    throw new JsonRpcError(
      CONTENT_TYPE_NOT_SUPPORTED,
      `None of the accepted output modes (${accepted.join(", ")}) is produced by this agent (${OUTPUT_MODES.join(", ")})`,
    );
  }
  return modes;
}

/** The text of the message's text parts (null when it has none) and its data parts merged. */
export function splitParts(parts: Part[]): { text: string | null; data: Record<string, unknown> } {
  const texts: string[] = [];
  const data: Record<string, unknown> = {};
  for (const part of parts) {
    if (part.kind === "text") texts.push(part.text);
    else Object.assign(data, part.data);
  }
  return { text: texts.length > 0 ? texts.join("\n") : null, data };
}

/** What a message answering an interrupt resumes the graph with: its one part's value, or the list of them. */
export function resumeValue(parts: Part[]): unknown {
  const values = parts.map((part) => (part.kind === "text" ? part.text : part.data));
  return values.length === 1 ? values[0] : values;
}

/** The LangChain message (dict form) a message's text becomes, keeping its id. */
export function chatMessage(message: Message, text: string): Record<string, unknown> {
  return { role: message.role === "user" ? "user" : "assistant", content: text, id: message.messageId };
}

/** Text of a message in the dict form graph values are answered in. */
function messageText(message: Record<string, unknown>): string {
  const { content } = message;
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content
    .map((block) => (typeof block === "string" ? block : isObject(block) && block.type === "text" ? String(block.text ?? "") : ""))
    .join("");
}

const isAiMessage = (message: unknown): message is Record<string, unknown> =>
  isObject(message) && (message.type === "ai" || message.type === "AIMessageChunk");

/**
 * The parts of a finished run's output, as far as the client accepts them: the last message as
 * text when it is the AI's, and every other state value as one data part.
 */
export function outputParts(values: unknown, modes: Set<OutputMode>): Part[] {
  const state = isObject(values) ? values : values == null ? {} : { value: values };
  const { messages, ...rest } = state;
  const chat = Array.isArray(messages);
  const last = chat ? messages.at(-1) : undefined;
  const data = chat ? rest : state;
  const parts: Part[] = [];
  if (isAiMessage(last) && modes.has("text/plain")) parts.push({ kind: "text", text: messageText(last) });
  if (Object.keys(data).length > 0 && modes.has("application/json")) parts.push({ kind: "data", data });
  return parts;
}

/** One part per interrupt value: objects as data, strings as text, anything else wrapped as `{value}`. */
export function interruptParts(values: unknown[]): Part[] {
  return values.map((value) =>
    typeof value === "string" ? { kind: "text", text: value } : { kind: "data", data: isObject(value) ? value : { value } },
  );
}
