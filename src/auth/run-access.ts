/**
 * Authorizing the creation of a run, as the LangGraph servers do: the `threads:create_run` event
 * (its handler may change the run's metadata; its filters scope the thread, or the temporary
 * thread of a stateless run) and `assistants:read` for the assistant it runs.
 */
import { v7 as uuidv7 } from "uuid";
import type { RunAccess } from "../runtime/runs/create.js";
import type { RunRequest } from "../runtime/runs/request.js";
import type { RequestAuth } from "./index.js";

export async function authorizeRunCreation<B extends RunRequest>(
  auth: RequestAuth,
  threadId: string | null,
  body: B,
): Promise<{ access: RunAccess; body: B }> {
  const runId = uuidv7();
  const { value, scope } = await auth.authorize("threads:create_run", {
    thread_id: threadId,
    assistant_id: body.assistant_id,
    run_id: runId,
    status: "pending",
    metadata: body.metadata ?? {},
    multitask_strategy: "multitask_strategy" in body ? body.multitask_strategy : undefined,
    if_not_exists: "if_not_exists" in body ? body.if_not_exists : undefined,
    after_seconds: body.after_seconds,
    kwargs: body as Record<string, unknown>,
  });
  const assistant = await auth.authorize("assistants:read", { assistant_id: value.assistant_id });
  return {
    access: { thread: scope, assistant: assistant.scope, user: auth.user, runId },
    body: { ...body, assistant_id: value.assistant_id, metadata: value.metadata ?? {} },
  };
}
