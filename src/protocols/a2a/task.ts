/**
 * A2A tasks over runs. A task is the run a message started (its id is the task id; its metadata
 * holds the message as `a2a_message`), plus the runs of later messages that answered its
 * interrupts (metadata `a2a_task_id`). Its state is read off its latest run and the checkpoint
 * that run wrote last, so every answer about a task is rebuilt from what is stored.
 */
import type { components } from "../../../generated/openapi.js";
import { JsonRpcError } from "../../http/jsonrpc.js";
import type { RunReader } from "../../app/run-reader.js";
import { isNotFound } from "../../errors.js";
import type { Assistant, Run } from "../../storage/types.js";
import { interruptParts, outputParts, type OutputMode } from "./parts.js";

type Task = components["schemas"]["A2aTask"];
type TaskState = components["schemas"]["A2aTaskStatus"]["state"];
type Message = components["schemas"]["A2aMessage"];
type Part = components["schemas"]["A2aPart"];

/** A2A error code: no such task. */
const TASK_NOT_FOUND = -32001;
const PAGE = 100;

export const TASK_MESSAGE_KEY = "a2a_message";
export const TASK_ID_KEY = "a2a_task_id";

export const taskNotFound = (taskId: string) => new JsonRpcError(TASK_NOT_FOUND, `Task '${taskId}' not found`);

/** The runs of a task of this assistant, oldest first. */
export async function taskRuns(reader: RunReader, assistant: Assistant, taskId: string): Promise<Run[]> {
  let first: Run;
  try {
    first = await reader.get(taskId);
  } catch (error) {
    if (isNotFound(error)) throw taskNotFound(taskId);
    throw error;
  }
  const startedByMessage = first.metadata?.[TASK_MESSAGE_KEY] !== undefined && first.metadata?.[TASK_ID_KEY] === undefined;
  if (!startedByMessage || first.assistant_id !== assistant.assistant_id) throw taskNotFound(taskId);
  const answers: Run[] = [];
  for (let offset = 0; ; offset += PAGE) {
    const page = await reader.list(first.thread_id, { limit: PAGE, offset });
    answers.push(...page.items.filter((run) => run.metadata?.[TASK_ID_KEY] === taskId));
    if (page.items.length < PAGE) break;
  }
  // listed newest first
  return [first, ...answers.reverse()];
}

interface EndState {
  values: unknown;
  /** Values of the interrupts pending at the run's last checkpoint. */
  interrupts: unknown[];
}

/** The state the run left: its last checkpoint (none when it wrote none, e.g. rolled back). */
async function endState(reader: RunReader, run: Run): Promise<EndState> {
  const [last] = await reader.history(run.thread_id, { metadata: { run_id: run.run_id }, limit: 1 });
  return { values: last?.values ?? null, interrupts: (last?.interrupts ?? []).map((interrupt) => interrupt.value) };
}

/** Whether no later run of the thread has replaced the run's state. */
async function isNewestOfThread(reader: RunReader, run: Run): Promise<boolean> {
  const { items } = await reader.list(run.thread_id, { limit: 1 });
  return items[0]?.run_id === run.run_id;
}

const agentMessage = (run: Run, parts: Part[]): Message => ({
  kind: "message",
  role: "agent",
  // stable, so that asking twice gives the same message
  messageId: `${run.run_id}:status`,
  contextId: run.thread_id,
  parts,
});

const textPart = (text: string): Part => ({ kind: "text", text });

/** The task's state, its status message and its output parts (for a completed task). */
async function progress(reader: RunReader, latest: Run, modes: Set<OutputMode>) {
  const result = (state: TaskState, message?: Message, output?: Part[]) => ({ state, message, output });
  switch (latest.status) {
    case "pending":
      return result("submitted");
    case "running":
      return result("working");
    case "error":
    case "timeout": {
      const error = latest.error ?? { error: latest.status === "timeout" ? "Timeout" : "Error", message: "the run failed" };
      return result("failed", agentMessage(latest, [textPart(`${error.error}: ${error.message}`)]));
    }
    case "interrupted":
      return result("canceled", agentMessage(latest, [textPart(`The task was canceled: ${latest.cancel_reason ?? "its run was interrupted"}`)]));
    case "success": {
      const state = await endState(reader, latest);
      if (state.interrupts.length === 0) return result("completed", undefined, outputParts(state.values, modes));
      if (await isNewestOfThread(reader, latest)) return result("input-required", agentMessage(latest, interruptParts(state.interrupts)));
      return result(
        "canceled",
        agentMessage(latest, [textPart("The task was canceled: a later task of its context ran before its interrupt was answered")]),
      );
    }
  }
}

export interface TaskViewOptions {
  /** Output parts of these media types only (default: all). */
  modes?: Set<OutputMode>;
  /** At most this many most recent history messages. */
  historyLength?: number;
}

/** The A2A view of a task's runs. */
export async function taskView(reader: RunReader, runs: Run[], options: TaskViewOptions = {}): Promise<Task> {
  const first = runs[0];
  const latest = runs.at(-1)!;
  const { state, message, output } = await progress(reader, latest, options.modes ?? new Set(["text/plain", "application/json"]));
  const sent = runs.map((run) => ({
    ...(run.metadata?.[TASK_MESSAGE_KEY] as Message),
    kind: "message" as const,
    contextId: first.thread_id,
    taskId: first.run_id,
  }));
  const history = message ? [...sent, { ...message, taskId: first.run_id }] : sent;
  const length = options.historyLength ?? history.length;
  const { [TASK_MESSAGE_KEY]: _message, [TASK_ID_KEY]: _taskId, ...metadata } = first.metadata ?? {};
  return {
    kind: "task",
    id: first.run_id,
    contextId: first.thread_id,
    status: { state, timestamp: latest.updated_at, ...(message ? { message: { ...message, taskId: first.run_id } } : {}) },
    ...(output?.length ? { artifacts: [{ artifactId: latest.run_id, name: "result", parts: output }] } : {}),
    history: length === 0 ? [] : history.slice(-length),
    ...(Object.keys(metadata).length > 0 ? { metadata } : {}),
  };
}

/** Whether the message may answer the task's interrupt (its state is `input-required`). */
export async function awaitsInput(reader: RunReader, runs: Run[]): Promise<boolean> {
  return (await progress(reader, runs.at(-1)!, new Set())).state === "input-required";
}
