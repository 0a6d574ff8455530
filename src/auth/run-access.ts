/**
 * Authorizing the creation of a run as the LangGraph Platform does: the `threads:create_run`
 * event (its handler may change the run's metadata; its filters scope the thread, or the
 * temporary thread of a stateless run). The assistant is resolved without the assistants' read
 * filter when it is a graph (its id or its default assistant): anyone who may create the run may
 * run a graph, as on the Platform and `langgraph dev`. An assistant a user created stays under
 * `assistants:read`, so another user cannot run it by its id (the official servers do not look).
 */
import { v7 as uuidv7 } from "uuid";
import type { GraphRegistry } from "../runtime/graphs/index.js";
import type { RunAccess } from "../runtime/runs/create.js";
import type { RunRequest } from "../runtime/runs/request.js";
import { UNSCOPED } from "../storage/scope.js";
import type { Scope } from "../storage/types.js";
import type { RequestAuth } from "./index.js";

/** The scope under which the assistant of a new run (or cron) is looked up. */
export async function runnableAssistantScope(
  auth: RequestAuth,
  graphs: Pick<GraphRegistry, "isGraphAssistant">,
  assistantId: string,
): Promise<Scope> {
  if (graphs.isGraphAssistant(assistantId)) return UNSCOPED;
  return (await auth.authorize("assistants:read", { assistant_id: assistantId })).scope;
}

export async function authorizeRunCreation<B extends RunRequest>(
  auth: RequestAuth,
  graphs: Pick<GraphRegistry, "isGraphAssistant">,
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
    kwargs: body,
  });
  const assistant = await runnableAssistantScope(auth, graphs, value.assistant_id);
  return {
    access: { thread: scope, assistant, user: auth.user, runId },
    body: { ...body, assistant_id: value.assistant_id, metadata: value.metadata ?? {} },
  };
}
