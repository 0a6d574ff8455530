/**
 * `tools/call`: the assistant runs as a stateless run with the tool arguments as its input, and
 * the call waits for it. Its final values are the tool's output; anything that keeps the run
 * from producing them is reported as a tool error (`isError`), which the calling model sees,
 * rather than as a protocol error.
 */
import { startRunAndWait, type RunDeps } from "../../app/runs.js";
import type { RequestAuth } from "../../auth/index.js";
import type { Assistant } from "../../storage/types.js";

export interface CallToolResult {
  content: Array<{ type: "text"; text: string }>;
  isError: boolean;
}

const text = (value: string, isError: boolean): CallToolResult => ({ content: [{ type: "text", text: value }], isError });

/** The tool result of the run; when `signal` fires first the run is cancelled (and nobody reads the result). */
export async function callTool(
  deps: RunDeps,
  assistant: Assistant,
  args: Record<string, unknown>,
  auth: RequestAuth,
  signal: AbortSignal,
): Promise<CallToolResult> {
  const start = { threadId: null, body: { assistant_id: assistant.assistant_id, input: args } };
  const waiter = { signal, cancelReason: "the MCP client calling the tool disconnected" };
  const outcome = await (await startRunAndWait(deps, auth, start, waiter)).outcome;
  if (outcome === null) return text("The client disconnected; the run was cancelled.", true);
  if (outcome.error) return text(`${outcome.error.error}: ${outcome.error.message}`, true);
  if (outcome.status !== "success") return text(`The run ended with status '${outcome.status}' before producing a result.`, true);
  const values = outcome.values as Record<string, unknown> | null;
  if (values && typeof values === "object" && "__interrupt__" in values) {
    return text(`The graph paused at an interrupt, which a tool call cannot resume: ${JSON.stringify(values.__interrupt__)}`, true);
  }
  return text(JSON.stringify(values), false);
}
