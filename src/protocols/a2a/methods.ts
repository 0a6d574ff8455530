/**
 * The A2A methods of one assistant: sending a message (which starts a task, or answers the
 * interrupt of an `input-required` one), and getting and cancelling tasks. Parameters are
 * checked against the contract's schemas.
 */
import type { RequestAuth } from "../../auth/index.js";
import { randomUUID } from "node:crypto";
import type { components } from "../../../generated/openapi.js";
import { checkAgainst } from "../../http/contract-schemas.js";
import { invalidParams, JsonRpcError, namedParams } from "../../http/jsonrpc.js";
import { GraphLoadError } from "../../runtime/graphs/index.js";
import { startRun } from "../../app/runs.js";
import type { RunDeps } from "../../app/runs.js";
import type { ThreadStateDeps } from "../../runtime/threads/state.js";
import type { RunReader } from "../../app/run-reader.js";
import type { Assistant, Run } from "../../storage/types.js";
import { acceptedModes, chatMessage, resumeValue, splitParts, type OutputMode } from "./parts.js";
import { awaitsInput, TASK_ID_KEY, TASK_MESSAGE_KEY, taskRuns, taskView } from "./task.js";

type SendParams = components["schemas"]["A2aMessageSendParams"];
type QueryParams = components["schemas"]["A2aTaskQueryParams"];
type Message = components["schemas"]["A2aMessage"];
type Task = components["schemas"]["A2aTask"];

/** A2A error codes. */
const TASK_NOT_CANCELABLE = -32002;
const PUSH_NOTIFICATIONS_NOT_SUPPORTED = -32003;

/** What the A2A methods use: runs (tasks) and the threads' states and graphs. */
export type A2aDeps = RunDeps & ThreadStateDeps;

export interface A2aContext {
  services: A2aDeps;
  assistant: Assistant;
  /** What the caller may read of runs (tasks are runs, seen through their thread). */
  reader: RunReader;
  /** The caller, for the runs a message starts. */
  auth: RequestAuth;
  /** Fires when the client disconnects (a task goes on without it). */
  signal: AbortSignal;
}

function checked<T>(schema: "A2aMessageSendParams" | "A2aTaskQueryParams", raw: unknown): T {
  const params = namedParams(raw);
  const problems = checkAgainst(schema, params, "params");
  if (problems) throw invalidParams(problems);
  return params as T;
}

/** The graph input of a message starting a task: data parts as state keys, text as a chat message. */
async function graphInput({ services, assistant }: A2aContext, message: Message): Promise<Record<string, unknown>> {
  const { text, data } = splitParts(message.parts);
  if (text === null) return data;
  if ("messages" in data) throw invalidParams("params.message.parts: a data part gives 'messages' and text parts add one; give the messages one way");
  let channels: Record<string, unknown>;
  try {
    channels = (await services.graphs.resolveGraph(assistant.graph_id, assistant.config as never)).channels;
  } catch (error) {
    if (error instanceof GraphLoadError)
      throw invalidParams(`The graph of assistant '${assistant.assistant_id}' cannot be built with its config: ${error.message}`);
    throw error;
  }
  if (!("messages" in channels)) {
    throw invalidParams(
      `params.message.parts: graph '${assistant.graph_id}' has no 'messages' state key to put text into; send the input as a data part`,
    );
  }
  return { ...data, messages: [chatMessage(message, text)] };
}

/** The context a message belongs to: its contextId or `thread.threadId`, which must agree. */
function contextOf(params: SendParams): string | undefined {
  const { contextId } = params.message;
  const threadId = params.thread?.threadId;
  if (contextId !== undefined && threadId !== undefined && contextId !== threadId) {
    throw invalidParams("params.thread.threadId: differs from params.message.contextId; give one of them");
  }
  return contextId ?? threadId;
}

export interface SentMessage {
  /** The runs of the task, the one just started last. */
  runs: Run[];
  modes: Set<OutputMode>;
  blocking: boolean;
  historyLength?: number;
}

/** Starts the run of a message: a new task, or the answer to an `input-required` task. */
export async function sendMessage(context: A2aContext, raw: unknown): Promise<SentMessage> {
  const { services, assistant, reader } = context;
  const params = checked<SendParams>("A2aMessageSendParams", raw);
  const { configuration = {}, message } = params;
  if (configuration.pushNotificationConfig !== undefined) {
    throw new JsonRpcError(PUSH_NOTIFICATIONS_NOT_SUPPORTED, "Push notifications are not supported by this agent");
  }
  const modes = acceptedModes(configuration.acceptedOutputModes);
  let threadId = contextOf(params);

  let answered: Run[] | null = null;
  if (message.taskId !== undefined) {
    const runs = await taskRuns(reader, assistant, message.taskId);
    const taskThread = runs[0].thread_id;
    if (threadId !== undefined && threadId !== taskThread) {
      throw invalidParams(`params.message.taskId: task '${message.taskId}' belongs to context '${taskThread}', not '${threadId}'`);
    }
    threadId = taskThread;
    if (await awaitsInput(reader, runs)) answered = runs;
  }

  const taskId = answered?.[0]!.run_id;
  const metadata = { ...params.metadata, [TASK_MESSAGE_KEY]: message, ...(taskId ? { [TASK_ID_KEY]: taskId } : {}) };
  const start = answered ? { command: { resume: resumeValue(message.parts) } } : { input: await graphInput(context, message) };
  const thread = threadId ?? randomUUID();
  // one context is one conversation: its messages are answered in turn
  const request = {
    assistant_id: assistant.assistant_id,
    ...start,
    metadata,
    multitask_strategy: "enqueue" as const,
    if_not_exists: "create" as const,
  };
  const { run } = await startRun(services, context.auth, { threadId: thread, body: request });
  return {
    runs: answered ? [...answered, run] : [run],
    modes,
    blocking: configuration.blocking !== false,
    historyLength: configuration.historyLength,
  };
}

/** `message/send`: the task once it ended or needs input (at once when not blocking). */
export async function messageSend(context: A2aContext, raw: unknown): Promise<Task> {
  const { reader, signal } = context;
  const sent = await sendMessage(context, raw);
  let { runs } = sent;
  if (sent.blocking) {
    await reader.outcome(runs.at(-1)!, signal);
    runs = await taskRuns(reader, context.assistant, runs[0].run_id);
  }
  return taskView(reader, runs, { modes: sent.modes, historyLength: sent.historyLength });
}

function queriedTask(raw: unknown): { taskId: string; historyLength?: number } {
  const params = checked<QueryParams>("A2aTaskQueryParams", raw);
  if (params.id !== undefined && params.taskId !== undefined && params.id !== params.taskId) {
    throw invalidParams("params.taskId: differs from params.id; give one of them");
  }
  const taskId = params.id ?? params.taskId;
  if (taskId === undefined) throw invalidParams("params.id: the task id is required");
  return { taskId, historyLength: params.historyLength };
}

/** `tasks/get`. */
export async function tasksGet({ reader, assistant }: A2aContext, raw: unknown): Promise<Task> {
  const { taskId, historyLength } = queriedTask(raw);
  return taskView(reader, await taskRuns(reader, assistant, taskId), { historyLength });
}

/** `tasks/cancel`: cancels the task's active run and answers once it stopped. */
export async function tasksCancel({ reader, assistant }: A2aContext, raw: unknown): Promise<Task> {
  const { taskId, historyLength } = queriedTask(raw);
  const runs = await taskRuns(reader, assistant, taskId);
  const latest = runs.at(-1)!;
  if (latest.status !== "pending" && latest.status !== "running") {
    const task = await taskView(reader, runs);
    throw new JsonRpcError(TASK_NOT_CANCELABLE, `Task '${taskId}' is ${task.status.state}: only a submitted or working task can be canceled`);
  }
  await reader.cancel(latest, "canceled by an A2A client (tasks/cancel)");
  return taskView(reader, await taskRuns(reader, assistant, taskId), { historyLength });
}
