/**
 * Creating runs for the application layer (src/app/runs.ts, once authorized): resolve the assistant and the thread (creating it for
 * `if_not_exists: create` and for stateless runs), store the run through the atomic multitask
 * primitive (which also marks the thread busy), cancel what the strategy replaces, and schedule
 * the run.
 */
import { invalid } from "../../errors.js";
import { NotFoundError } from "../../storage/errors.js";
import { metadataInScope } from "../../storage/scope.js";
import type { Assistant, Run, RunInsert, Scope, StoredUser } from "../../storage/types.js";
import { servedAssistant, type AssistantLookupDeps } from "../assistants.js";
import type { RunEngine } from "./engine.js";
import type { LangSmith } from "./langsmith.js";
import { parseRunRequest, type ParsedRunRequest, type RunRequest } from "./request.js";
import { configurableRunningAs } from "./run-as.js";
import type { WebhookPolicy } from "../webhooks/policy.js";

/**
 * Who creates a run and what they may see: the scope of the thread (auth event
 * `threads:create_run`), of the assistant (`assistants:read`), and the user the run executes as
 * (null without authentication).
 */
export interface RunAccess {
  thread: Scope;
  assistant: Scope;
  user: StoredUser | null;
  /** The id the run gets, when it was chosen before (and announced to the auth handlers). */
  runId?: string;
}

/** What creating runs needs: storage, the graphs (to find the assistant), the engine, LangSmith when configured. */
export interface RunCreationDeps extends AssistantLookupDeps {
  runs: RunEngine;
  /** Where webhooks may go (`webhooks` of langgraph.json). */
  webhooks: WebhookPolicy;
  langsmith: LangSmith | null;
}

/** How a run is started, beyond its request. */
export interface RunKind {
  /** Started through the thread-centric protocol (v2): its events are protocol events (RunKwargs.protocol). */
  protocol?: boolean;
  /** The pending interrupts the run answers (a protocol `input.respond`): announced as it starts (RunKwargs.answers). */
  answers?: string[];
}

/** Checks a request without storing anything (batches validate every item before creating any). */
export async function prepareRun(
  services: RunCreationDeps,
  body: RunRequest,
  stateless: boolean,
  access: RunAccess,
  kind: RunKind = {},
): Promise<{ parsed: ParsedRunRequest; assistant: Assistant }> {
  const parsed = parseRunRequest(body, { stateless });
  if (kind.protocol) parsed.kwargs.protocol = true;
  if (kind.answers?.length) parsed.kwargs.answers = kind.answers;
  if (parsed.kwargs.webhook !== null) parsed.kwargs.webhook = services.webhooks.accept(parsed.kwargs.webhook);
  if (!services.langsmith && (parsed.kwargs.langsmith_tracer || parsed.kwargs.feedback_keys)) {
    const field = parsed.kwargs.feedback_keys ? "feedback_keys" : "langsmith_tracer";
    throw invalid(
      `body.${field}: LangSmith is not configured on this server: set LANGSMITH_API_KEY (and LANGSMITH_ENDPOINT for a self-hosted LangSmith)`,
    );
  }
  const { config } = parsed.kwargs;
  config.configurable = configurableRunningAs(config.configurable, access.user);
  return { parsed, assistant: await servedAssistant(services, parsed.assistantId, access.assistant) };
}

/** A caller that follows the run it creates from its scheduling (a wait, a stream). */
export interface Follower {
  /**
   * Called synchronously right after the run is scheduled, before it can publish any event: a
   * client streaming the run it creates subscribes here, so even a run that ends at once is seen.
   */
  onScheduled: (run: Run) => void;
  /**
   * Whether the run may start as soon as it is stored, while its creation is still on its way to
   * disk (see `startRun`): for a caller answering at the run's end (a wait), whose run then
   * overlaps that write, and whose creation and end often share one. A caller streaming the run
   * says no: its first events go out once the creation is durable, and a graph already busy on
   * the CPU would hold that moment back (on lowdb, to the graph's end).
   */
  beforeDurable: boolean;
}

/**
 * Stores and schedules a prepared run on `threadId`, or on a new temporary thread when null.
 *
 * With a `follower` that allows it (`beforeDurable`), and no active run of the thread to
 * replace first, the run is scheduled as soon as storage holds it (`runs.create`'s `applied`),
 * so its execution overlaps the disk write of its creation. Nothing is acknowledged earlier for
 * it: this resolves (and the caller answers) once the creation is durable, and a run's end is
 * announced once the end is durable, which carries the creation with it. Should the creation
 * fail to reach the disk, the run is cancelled. Otherwise the run is scheduled once its
 * creation is durable (`follower.onScheduled` then): a caller asking for its outcome only
 * afterwards must not find it already ended (a stateless run's thread is gone by then).
 */
export async function startRun(
  services: RunCreationDeps,
  threadId: string | null,
  prepared: { parsed: ParsedRunRequest; assistant: Assistant },
  access: RunAccess,
  follower?: Follower,
): Promise<Run> {
  const scope = access.thread;
  const { storage, runs: engine } = services;
  const { parsed, assistant } = prepared;
  const ids = { graph_id: assistant.graph_id, assistant_id: assistant.assistant_id };
  // the run's creation, durable, carries a temporary thread's; it finds a given one (or not: 404, or `if_not_exists`)
  const { temporary } = parsed.kwargs;
  const thread =
    threadId ?? (await storage.threads.create({ metadata: { ...metadataInScope(scope), ...ids } }, scope, { deferred: true, temporary })).thread_id;

  let scheduled: Run | null = null;
  const schedule = (run: Run) => {
    scheduled = run;
    engine.submit(run, assistant);
    follower?.onScheduled(run);
  };
  const input = {
    ...(access.runId ? { run_id: access.runId } : {}),
    thread_id: thread,
    assistant_id: assistant.assistant_id,
    metadata: parsed.metadata,
    kwargs: parsed.kwargs,
    multitask_strategy: parsed.multitaskStrategy,
    not_before: parsed.notBefore ? new Date(parsed.notBefore).toISOString() : null,
    // a temporary thread was created with them
    ...(threadId === null ? {} : { thread_metadata: ids }),
  };
  // a run that can start at once is stored leased to this process, which executes it without a claim
  const lease = input.not_before === null ? engine.leaseAtCreation() : null;
  const store = () =>
    storage.runs.create({ ...input, ...(lease ? { lease: { owner: lease.owner, leaseMs: lease.leaseMs } } : {}) }, scope, (insert) => {
      if (follower?.beforeDurable && insert.inflight.length === 0) schedule(insert.run);
    });
  let created: RunInsert;
  try {
    created = await store().catch(async (error: unknown) => {
      // `if_not_exists: create`: the thread is created once the run's creation found it missing
      if (threadId === null || parsed.ifNotExists !== "create" || !(error instanceof NotFoundError && error.what === "Thread")) throw error;
      await storage.threads.create({ thread_id: threadId, metadata: metadataInScope(scope), if_exists: "do_nothing" }, scope);
      return store();
    });
  } catch (error) {
    lease?.release();
    const started: Run | null = scheduled;
    if (started) {
      await engine.cancel(started, "interrupt", "its creation could not be stored").catch(() => undefined);
    }
    throw error;
  }
  const { run, inflight } = created;
  if (run.status !== "running") lease?.release();
  if (scheduled) return run;
  try {
    const strategy = parsed.multitaskStrategy;
    if (strategy === "interrupt" || strategy === "rollback") {
      const reason = `replaced by run ${run.run_id} (multitask_strategy ${strategy})`;
      await Promise.all(inflight.map((active) => engine.cancel(active, strategy, reason)));
    }
  } finally {
    // even if cancelling failed, a stored pending run must not be left unscheduled
    schedule(run);
  }
  // One leased at its creation is running already; the caller reports it as created, like a run
  // that another process (or, on lowdb, this one) starts an instant after its creation.
  return run.status === "running" ? { ...run, status: "pending", attempt: 0 } : run;
}

/** Validates and starts one run. */
export async function createRun(
  services: RunCreationDeps,
  threadId: string | null,
  body: RunRequest,
  access: RunAccess,
  follower?: Follower,
  kind: RunKind = {},
): Promise<Run> {
  return startRun(services, threadId, await prepareRun(services, body, threadId === null, access, kind), access, follower);
}
