/**
 * Turns a run creation request (thread run, stateless run, batch item; crons later) into what is
 * stored with the run: `kwargs` (everything the executor needs, in the names the LangGraph
 * Platform uses in `Run.kwargs`) and the scheduling fields. Rejects, with a 422 naming the field,
 * combinations this server cannot honour.
 */
import type { components } from "../../../generated/openapi.js";
import { invalid } from "../../errors.js";
import type { Config, Durability, MultitaskStrategy, RunKwargs, StreamMode } from "../../storage/types.js";

type Schemas = components["schemas"];
export type RunRequest = Schemas["RunCreateStateful"] | Schemas["RunCreateStateless"];
export type { Durability, InterruptNodes, RunCommand, RunKwargs, StreamMode } from "../../storage/types.js";

export interface ParsedRunRequest {
  assistantId: string;
  kwargs: RunKwargs;
  metadata: Record<string, unknown>;
  multitaskStrategy: MultitaskStrategy;
  ifNotExists: Schemas["IfNotExists"];
  /** Epoch ms before which the run must not start; 0 = at once. */
  notBefore: number;
}

const fail = (field: string, message: string): never => {
  throw invalid(`body.${field}: ${message}`);
};

function streamModes(value: RunRequest["stream_mode"]): StreamMode[] {
  const modes = value == null ? [] : Array.isArray(value) ? value : [value];
  const unique = [...new Set(modes)];
  return unique.length ? unique : ["values"];
}

function durability(body: RunRequest): Durability {
  const fromFlag = body.checkpoint_during == null ? undefined : body.checkpoint_during ? "async" : "exit";
  if (body.durability != null && fromFlag !== undefined && body.durability !== fromFlag) {
    fail(
      "checkpoint_during",
      `checkpoint_during=${body.checkpoint_during} means durability '${fromFlag}', which contradicts durability '${body.durability}'; give only durability`,
    );
  }
  return body.durability ?? fromFlag ?? "async";
}

/** The request's checkpoint fields merged into the run config (stateful runs only). */
function configWithCheckpoint(body: RunRequest, stateless: boolean): Config {
  const config: Config = { ...(body.config ?? {}) };
  if (stateless) return config;
  const checkpoint: Record<string, unknown> = { ...(body.checkpoint ?? {}) };
  // the URL names the thread; a checkpoint of another thread cannot be a starting point
  delete checkpoint.thread_id;
  if (body.checkpoint_id != null) {
    if (checkpoint.checkpoint_id != null && checkpoint.checkpoint_id !== body.checkpoint_id) {
      fail("checkpoint_id", "differs from checkpoint.checkpoint_id; give one of them");
    }
    checkpoint.checkpoint_id = body.checkpoint_id;
  }
  if (checkpoint.checkpoint_map === null) delete checkpoint.checkpoint_map;
  if (Object.keys(checkpoint).length > 0) config.configurable = { ...config.configurable, ...checkpoint };
  return config;
}

/** Fields that only make sense for a run on an existing thread. */
function refuseThreadFields(body: Schemas["RunCreateStateless"]) {
  const why = "a stateless run starts on a new thread, which has no checkpoint to start from";
  if (body.checkpoint != null) fail("checkpoint", why);
  if (body.checkpoint_id != null) fail("checkpoint_id", why);
  if (body.if_not_exists === "reject") fail("if_not_exists", "a stateless run always creates its thread");
}

/**
 * What the official clients send as "no input" beside a command: absent, null, or `{}` (Agent
 * Chat UI resumes an interrupt with `{input: {}, command: {resume}}`), as the official servers read it.
 */
function isNoInput(input: unknown): boolean {
  if (input == null) return true;
  return typeof input === "object" && !Array.isArray(input) && Object.keys(input).length === 0;
}

export function parseRunRequest(body: RunRequest, options: { stateless: boolean }): ParsedRunRequest {
  const { stateless } = options;
  const command = body.command ?? null;
  if (command !== null && !isNoInput(body.input)) {
    fail(
      "input",
      "give either input or command (a command resumes or steers the graph instead of an input); beside a command, input may only be absent, null or {}",
    );
  }
  if (command !== null && command.resume === undefined && command.update == null && command.goto == null) {
    fail("command", "needs at least one of resume, update, goto");
  }
  if (stateless) refuseThreadFields(body);
  else if (body.on_completion === "delete") {
    fail("on_completion", "a run on an existing thread keeps its thread; delete the thread instead");
  }
  const temporary = stateless && (body.on_completion ?? "delete") === "delete";
  const afterSeconds = body.after_seconds ?? 0;
  return {
    assistantId: body.assistant_id,
    kwargs: {
      input: command === null ? (body.input ?? null) : null,
      command,
      config: configWithCheckpoint(body, stateless),
      context: body.context ?? null,
      stream_mode: streamModes(body.stream_mode),
      subgraphs: body.stream_subgraphs ?? false,
      resumable: body.stream_resumable ?? false,
      interrupt_before: body.interrupt_before ?? null,
      interrupt_after: body.interrupt_after ?? null,
      // checked against the `webhooks` settings by the run's creation (runs/create.ts)
      webhook: body.webhook ?? null,
      durability: durability(body),
      strict_resume: body.strict_resume ?? false,
      ...(body.langsmith_tracer != null ? { langsmith_tracer: body.langsmith_tracer } : {}),
      ...(body.feedback_keys?.length ? { feedback_keys: body.feedback_keys } : {}),
      temporary,
      on_disconnect: body.on_disconnect ?? "cancel",
    },
    metadata: body.metadata ?? {},
    // a temporary thread never has another run: the strategy cannot matter there
    multitaskStrategy: stateless ? "reject" : (body.multitask_strategy ?? "reject"),
    ifNotExists: body.if_not_exists ?? "reject",
    notBefore: afterSeconds > 0 ? Date.now() + afterSeconds * 1000 : 0,
  };
}
