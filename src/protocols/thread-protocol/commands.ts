/**
 * The commands of the thread-centric protocol that act on the thread (the same over SSE/HTTP and
 * the WebSocket; subscriptions are the socket's, see socket.ts). Each validates its params
 * against the contract's schema, then calls the application layer as the caller: the run and
 * state operations authorize, resolve and act.
 *
 * - `run.start`: a run on the thread, which it creates on first use (`if_not_exists: create`);
 *   on a thread waiting at an interrupt, the input resumes it (LangGraph `Command(resume)`). The
 *   thread's other runs are handled by the multitask strategy (default `enqueue`).
 * - `input.respond`: resumes the thread's pending interrupts by id (with an optional update/goto);
 *   the run announces them (`input.answered`) as it starts.
 * - `input.inject`: a user/system message, given to the thread's graph as the next run's input
 *   (`{messages: [message]}`), queued after the active run.
 * - `state.get`, `state.listCheckpoints`: the root graph's state and checkpoints.
 * - `state.fork`: a run from an earlier checkpoint of the thread (time travel).
 * - `agent.getTree`: the (sub)graphs of a run (the latest by default) and their statuses.
 */
import type { components } from "../../../generated/openapi.js";
import { getRun, listRuns, startRun } from "../../app/runs.js";
import { agentTree } from "../../runtime/protocol/agent-tree.js";
import type { RequestAuth } from "../../auth/index.js";
import { checkAgainst } from "../../http/contract-schemas.js";
import type { RunRequest } from "../../runtime/runs/request.js";
import { getThreadHistory, getThreadState } from "../../app/thread-state.js";
import { getThread } from "../../app/threads.js";
import type { ThreadState } from "../../runtime/threads/state-view.js";
import type { Services } from "../../services.js";
import { commandError, failure, refuse, seqBefore, success, type CommandAnswer, type ErrorCode } from "./answers.js";

type Schemas = components["schemas"];
type Command = Schemas["ProtocolCommand"];
type Params<Name extends keyof Schemas> = Schemas[Name];

export interface CommandContext {
  services: Services;
  auth: RequestAuth;
  threadId: string;
}

interface CommandSpec {
  schema: keyof Schemas;
  /** The error code when what the command acts on is not found. */
  missing: ErrorCode;
  run(ctx: CommandContext, params: never): Promise<Record<string, unknown>>;
}

/** Root namespace only: the state commands read the root graph. */
function rootOnly(namespace: string[] | undefined, method: string): void {
  if (namespace && namespace.length > 0) {
    throw refuse("invalid_argument", `${method}: only the root namespace ([]) is supported, not ${JSON.stringify(namespace)}`);
  }
}

async function readableState(ctx: CommandContext): Promise<ThreadState> {
  return getThreadState(ctx.services, ctx.auth, ctx.threadId);
}

const pendingInterruptIds = (state: ThreadState): Set<string> =>
  new Set(state.tasks.flatMap((task) => task.interrupts.map((interrupt) => interrupt.id).filter((id): id is string => typeof id === "string")));

/** The assistant the thread runs (its runs record it in the thread's metadata). */
async function threadAssistant(ctx: CommandContext): Promise<{ assistantId: string; state: ThreadState }> {
  const thread = await getThread(ctx.services, ctx.auth, ctx.threadId);
  const state = await readableState(ctx);
  const assistantId = thread.metadata?.assistant_id;
  if (typeof assistantId !== "string") throw refuse("no_such_run", `Thread '${ctx.threadId}' has no run yet: call run.start first`);
  return { assistantId, state };
}

/** A stored run status as an agent status. */
function statusOf(status: string): Schemas["ProtocolAgentStatus"] {
  if (status === "success") return "completed";
  if (status === "interrupted") return "interrupted";
  if (status === "pending" || status === "running") return "running";
  return "failed";
}

async function start(ctx: CommandContext, body: RunRequest, answers?: string[]): Promise<string> {
  const request = { if_not_exists: "create" as const, stream_resumable: true, on_disconnect: "continue" as const, ...body };
  const { run } = await startRun(ctx.services, ctx.auth, {
    threadId: ctx.threadId,
    body: request,
    kind: { protocol: true, ...(answers ? { answers } : {}) },
  });
  return run.run_id;
}

const COMMANDS: Record<string, CommandSpec> = {
  "run.start": {
    schema: "ProtocolRunStartParams",
    missing: "invalid_argument",
    async run(ctx, params: Params<"ProtocolRunStartParams">) {
      const strategy = params.multitaskStrategy ?? params.multitask_strategy ?? "enqueue";
      let resume = false;
      if (params.input != null) {
        try {
          resume = pendingInterruptIds(await readableState(ctx)).size > 0;
        } catch (error) {
          if (commandError(error, "no_such_run")?.code !== "no_such_run") throw error; // a new thread
        }
      }
      const runId = await start(ctx, {
        assistant_id: params.assistant_id,
        ...(resume ? { command: { resume: params.input } } : { input: params.input ?? null }),
        ...(params.config ? { config: params.config } : {}),
        ...(params.metadata ? { metadata: params.metadata } : {}),
        ...(params.langsmith_tracer ? { langsmith_tracer: params.langsmith_tracer } : {}),
        multitask_strategy: strategy,
      });
      return { run_id: runId };
    },
  },
  "input.respond": {
    schema: "ProtocolInputRespondParams",
    missing: "no_such_run",
    async run(ctx, params: Params<"ProtocolInputRespondParams">) {
      const answers =
        params.responses ?? (params.interrupt_id !== undefined ? [{ interrupt_id: params.interrupt_id, response: params.response }] : []);
      if (answers.length === 0) throw refuse("invalid_argument", "input.respond: give interrupt_id and response, or responses");
      const { assistantId, state } = await threadAssistant(ctx);
      const pending = pendingInterruptIds(state);
      if (pending.size === 0) throw refuse("no_such_run", `Thread '${ctx.threadId}' has no pending interrupt to respond to`);
      const unknown = answers.find((answer) => !pending.has(answer.interrupt_id));
      if (unknown) throw refuse("no_such_interrupt", `Interrupt '${unknown.interrupt_id}' is not pending on thread '${ctx.threadId}'`);
      await start(
        ctx,
        {
          assistant_id: assistantId,
          command: {
            resume: Object.fromEntries(answers.map((answer) => [answer.interrupt_id, answer.response])),
            ...(params.update != null ? { update: params.update as Record<string, unknown> } : {}),
            ...(params.goto != null ? { goto: params.goto as never } : {}),
          },
          ...(params.config ? { config: params.config } : {}),
          ...(params.metadata ? { metadata: params.metadata } : {}),
          ...(params.strict_resume ? { strict_resume: true } : {}),
          multitask_strategy: "enqueue",
        },
        answers.map((answer) => answer.interrupt_id),
      );
      return {};
    },
  },
  "input.inject": {
    schema: "ProtocolInputInjectParams",
    missing: "no_such_run",
    async run(ctx, params: Params<"ProtocolInputInjectParams">) {
      rootOnly(params.namespace, "input.inject");
      const { assistantId } = await threadAssistant(ctx);
      const { role, content, name } = params.message;
      const message = { type: role === "user" ? "human" : "system", content, ...(name !== undefined ? { name } : {}) };
      await start(ctx, { assistant_id: assistantId, input: { messages: [message] }, multitask_strategy: "enqueue" });
      return {};
    },
  },
  "state.get": {
    schema: "ProtocolStateGetParams",
    missing: "no_such_run",
    async run(ctx, params: Params<"ProtocolStateGetParams">) {
      rootOnly(params.namespace, "state.get");
      const state = await readableState(ctx);
      const values = (state.values ?? {}) as Record<string, unknown>;
      const keys = params.keys;
      const checkpointId = state.checkpoint?.checkpoint_id;
      return {
        values: keys ? Object.fromEntries(Object.entries(values).filter(([key]) => keys.includes(key))) : values,
        ...(checkpointId ? { checkpoint: { id: checkpointId, ns: state.checkpoint?.checkpoint_ns ?? "" } } : {}),
      };
    },
  },
  "state.listCheckpoints": {
    schema: "ProtocolListCheckpointsParams",
    missing: "no_such_run",
    async run(ctx, params: Params<"ProtocolListCheckpointsParams">) {
      rootOnly(params.namespace, "state.listCheckpoints");
      const states = await getThreadHistory(ctx.services, ctx.auth, ctx.threadId, {
        ...(params.limit !== undefined ? { limit: params.limit } : {}),
        ...(params.before !== undefined ? { before: params.before } : {}),
      });
      return {
        checkpoints: states.map((state) => {
          const metadata = (state.metadata ?? {}) as Record<string, unknown>;
          const writes = metadata.writes && typeof metadata.writes === "object" ? Object.keys(metadata.writes) : [];
          return {
            id: state.checkpoint.checkpoint_id ?? "",
            timestamp: state.created_at ?? "",
            step: typeof metadata.step === "number" ? metadata.step : 0,
            ...(writes.length === 1 ? { node_name: writes[0] } : {}),
            metadata,
          };
        }),
      };
    },
  },
  "agent.getTree": {
    schema: "ProtocolAgentGetTreeParams",
    missing: "no_such_run",
    async run(ctx, params: Params<"ProtocolAgentGetTreeParams">) {
      const thread = await getThread(ctx.services, ctx.auth, ctx.threadId);
      const run = params.run_id
        ? await getRun(ctx.services, ctx.auth, { threadId: ctx.threadId, runId: params.run_id })
        : (await listRuns(ctx.services, ctx.auth, ctx.threadId, { limit: 1, offset: 0 })).items[0];
      if (!run) throw refuse("no_such_run", `Thread '${ctx.threadId}' has no run yet`);
      const graphId = typeof thread.metadata?.graph_id === "string" ? thread.metadata.graph_id : run.assistant_id;
      const held = await ctx.services.runs.heldRun(run.run_id);
      const tree = held ? agentTree(run.run_id, graphId, held.events, held.outcome) : null;
      // a run whose events are no longer held (or that streamed no protocol events): its stored status
      return { tree: tree && tree.status !== "started" ? tree : { namespace: [], status: statusOf(run.status), graph_name: graphId } };
    },
  },
  "state.fork": {
    schema: "ProtocolStateForkParams",
    missing: "no_such_checkpoint",
    async run(ctx, params: Params<"ProtocolStateForkParams">) {
      const { assistantId } = await threadAssistant(ctx);
      // the checkpoint must be the thread's: its absence is this command's error, not the run's
      await getThreadState(ctx.services, ctx.auth, ctx.threadId, { checkpoint: { checkpoint_id: params.checkpoint_id } });
      const config = (params.config ?? {}) as Record<string, unknown> & { configurable?: Record<string, unknown> };
      const runId = await start(ctx, {
        assistant_id: assistantId,
        input: params.input ?? null,
        config: { ...config, configurable: { ...config.configurable, checkpoint_id: params.checkpoint_id } },
        multitask_strategy: "enqueue",
      });
      return { run_id: runId, thread_id: ctx.threadId };
    },
  },
};

/** Subscription commands, which only the WebSocket carries. */
export const SUBSCRIPTION_METHODS = new Set(["subscription.subscribe", "subscription.unsubscribe", "subscription.reconnect"]);

/**
 * Runs a thread command and answers it. Errors that are not the command's (a storage outage, a
 * bug) are thrown for the transport to report.
 */
export async function runCommand(ctx: CommandContext, command: Command): Promise<CommandAnswer> {
  const spec = COMMANDS[command.method];
  if (!spec) {
    if (SUBSCRIPTION_METHODS.has(command.method)) {
      return failure(
        command.id,
        "not_supported",
        `${command.method} is a WebSocket command: over SSE each POST /threads/{thread_id}/stream/events is a subscription (its body the filter, \`since\` the replay point)`,
      );
    }
    return failure(command.id, "unknown_command", `Unknown protocol command: ${command.method}`);
  }
  const params = command.params ?? {};
  const problems = checkAgainst(spec.schema, params, "params");
  if (problems) return failure(command.id, "invalid_argument", `${command.method}: ${problems}`);
  const appliedThroughSeq = seqBefore();
  try {
    return success(command.id, await spec.run(ctx, params as never), ctx.threadId, appliedThroughSeq);
  } catch (error) {
    const refused = commandError(error, spec.missing);
    if (!refused) throw error;
    return failure(command.id, refused.code, refused.message);
  }
}
