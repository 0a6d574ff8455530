/** The text of a message's content: a string, or the text blocks of a list (`[{type: "text", text}]`). */
export function messageText(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content.map((block: unknown) => (typeof block === "string" ? block : ((block as { text?: unknown } | null)?.text ?? ""))).join("");
}
