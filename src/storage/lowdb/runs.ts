/**
 * RunsRepository over a lowdb `Collection<Run>`.
 *
 * Runs are sharded by thread id, so a thread's runs live in one shard file and
 * every change to them is one atomic shard write. Indexes: status, thread. A scope applies to
 * the metadata of a run's thread (a run is visible when its thread is).
 *
 * Multitask atomicity: `create` checks the thread's active runs, inserts the new
 * run and marks the thread busy in one synchronous section (the Collections change
 * memory before they await their writes), so two racing creates on one thread can
 * never both see an idle thread: in this single-process backend the event loop is
 * the per-thread serialization. Nothing may `await` between the check and the puts.
 * The run and the thread are two files written side by side; a crash between them
 * leaves a pending run on a thread not marked busy, which startup recovery repairs.
 */
import { v7 as uuidv7 } from "uuid";
import { ConflictError, NotFoundError, ThreadBusyError } from "../errors.js";
import type { Run, RunStatus, Thread } from "../records.js";
import type { WebhookDelivery } from "../types.js";
import type { ExecutingRun, Page, RunCreate, RunEnd, RunInsert, RunListQuery, RunsRepository, RunUpdate, Scope } from "../types.js";
import { newRun } from "../new-records.js";
import { Collection, type CollectionOptions } from "./collection.js";
import { copy, now } from "./json.js";
import { byField, paginate } from "./page.js";
import { inScope, scopePredicate } from "../scope.js";

const WHAT = "Run";
const isActive = (r: Run) => r.status === "pending" || r.status === "running";

export function runCollectionOptions(dir: string, shards: number): CollectionOptions<Run> {
  return {
    dir,
    shards,
    idOf: (r) => r.run_id,
    shardKeyOf: (r) => r.thread_id,
    // active: a thread's pending and running runs, read at every run's creation, start and end
    // without walking the thread's ended ones
    indexes: { status: (r) => r.status, thread: (r) => r.thread_id, active: (r) => (isActive(r) ? r.thread_id : null) },
  };
}

/** Oldest first; run ids are uuid v7 (time ordered), so they break same-millisecond ties in creation order. */
const oldestFirst = byField<Run>("created_at", "asc", (r) => r.run_id);

export class LowdbRuns implements RunsRepository {
  constructor(
    private readonly col: Collection<Run>,
    private readonly threads: Collection<Thread>,
    private readonly webhooks: Collection<WebhookDelivery>,
    /** Makes the mutations `writes` starts one commit-log record (CommitLog.atomically). */
    private readonly atomically: <T>(writes: () => T) => T,
  ) {}

  async create(input: RunCreate, scope?: Scope, applied?: (insert: RunInsert) => void): Promise<RunInsert> {
    if (input.lease) throw new Error("the embedded backend has no run leases: RunCreate.lease does not apply");
    const id = input.run_id ?? uuidv7();
    if (this.col.get(id)) throw new ConflictError(WHAT, id);
    // From here to the puts: synchronous (see the file comment).
    const thread = this.threads.get(input.thread_id);
    if (!thread || !inScope(thread.metadata, scope)) throw new NotFoundError("Thread", input.thread_id);
    const inflight = this.#active(input.thread_id);
    if (input.multitask_strategy === "reject" && inflight.length > 0) {
      throw new ThreadBusyError(
        input.thread_id,
        inflight.map((r) => `${r.run_id} (${r.status})`),
      );
    }
    const at = now();
    const run = newRun(input, id, at);
    const busy: Thread = {
      ...thread,
      status: "busy",
      metadata: { ...thread.metadata, ...copy(input.thread_metadata ?? {}) },
      updated_at: at,
    };
    const written = Promise.all([this.col.put(run), this.threads.put(busy)]);
    const result = { run: copy(run), inflight: inflight.map(copy) };
    applied?.(result);
    await written;
    return result;
  }

  async get(runId: string, scope?: Scope): Promise<Run> {
    const run = this.#require(runId, scope);
    await this.col.settled(runId);
    return copy(run);
  }

  async getInThread(threadId: string, runId: string, scope?: Scope): Promise<Run> {
    const run = this.col.get(runId);
    if (!run || run.thread_id !== threadId || !this.#visible(run, scope)) throw new NotFoundError(WHAT, runId);
    await this.col.settled(runId);
    return copy(run);
  }

  async list(threadId: string, query: RunListQuery = {}, scope?: Scope): Promise<Page<Run>> {
    const thread = this.threads.get(threadId);
    if (thread && !inScope(thread.metadata, scope)) return { items: [], total: 0 };
    const { status } = query;
    const where = (r: Run) => r.thread_id === threadId && (status === undefined || r.status === status);
    const eq: Array<readonly [string, string]> = [["thread", threadId]];
    if (status) eq.push(["status", status]);
    const newestFirst = byField<Run>("created_at", "desc", (r) => r.run_id);
    const page = paginate(this.col.candidates(eq), where, newestFirst, query);
    return { items: page.items.map(copy), total: page.total };
  }

  async active(threadId: string): Promise<Run[]> {
    return this.#active(threadId).map(copy);
  }

  async withStatus(status: RunStatus, scope?: Scope): Promise<Run[]> {
    const visible = scopePredicate(scope);
    const runs: Run[] = [];
    for (const run of this.col.candidates([["status", status]])) {
      if (run.status === status && (visible === undefined || visible(this.threads.get(run.thread_id)?.metadata))) runs.push(run);
    }
    return runs.sort(oldestFirst).map(copy);
  }

  async processes(): Promise<string[]> {
    return []; // this process is the only one
  }

  async executing(scope?: Scope): Promise<ExecutingRun[]> {
    return (await this.withStatus("running", scope)).map((run) => ({ run, owner: null }));
  }

  async update(runId: string, update: RunUpdate, applied?: (run: Run) => void): Promise<Run> {
    const current = this.col.get(runId);
    if (!current) throw new NotFoundError(WHAT, runId);
    const next: Run = { ...current, ...copy(update), updated_at: now() };
    const written = this.col.put(next);
    const result = copy(next);
    applied?.(result);
    await written;
    return result;
  }

  async updateIf(runId: string, status: RunStatus, update: RunUpdate, attempt?: number, applied?: (run: Run) => void): Promise<Run | null> {
    const current = this.col.get(runId);
    if (!current) throw new NotFoundError(WHAT, runId);
    // checked and changed in one synchronous step: no other mutation comes between
    if (current.status !== status || (attempt !== undefined && current.attempt !== attempt)) return null;
    return this.update(runId, update, applied);
  }

  async delete(runId: string, scope?: Scope): Promise<void> {
    this.#require(runId, scope);
    await this.col.delete(runId);
  }

  async end(runId: string, end: RunEnd): Promise<Run> {
    return (await this.#end(runId, end))!;
  }

  endIf(runId: string, status: RunStatus, end: RunEnd): Promise<Run | null> {
    return this.#end(runId, end, status);
  }

  /** Null when `status` is given and the run is in another one (checked in the same synchronous step as the writes). */
  async #end(runId: string, end: RunEnd, status?: RunStatus): Promise<Run | null> {
    if (end.events) throw new Error("the embedded backend keeps run events in memory: RunEnd.events does not apply");
    if (end.thread) throw new Error("the embedded backend's executor updates the thread itself: RunEnd.thread does not apply");
    const current = this.col.get(runId);
    if (!current) throw new NotFoundError(WHAT, runId);
    if (status !== undefined && current.status !== status) return null;
    // Both changes are one commit-log record: a torn write keeps both or neither.
    const stored: Run = end.update === null ? current : { ...current, ...copy(end.update), updated_at: now() };
    const at = now();
    const delivery: WebhookDelivery | null = end.webhook
      ? {
          delivery_id: uuidv7(),
          run_id: runId,
          thread_id: current.thread_id,
          url: end.webhook.url,
          payload: copy(end.webhook.payload(copy(stored))),
          attempts: 0,
          due_at: at,
          claimed_by: null,
          claimed_until: null,
          created_at: at,
        }
      : null;
    const writes = this.atomically(() => [
      end.update === null ? this.col.delete(runId) : this.col.put(stored),
      ...(delivery ? [this.webhooks.put(delivery)] : []),
    ]);
    await Promise.all(writes);
    return copy(stored);
  }

  async deleteThread(threadId: string): Promise<number> {
    const ids = [...(this.col.lookup("thread", threadId) ?? [])];
    await Promise.all(ids.map((id) => this.col.delete(id)));
    return ids.length;
  }

  #active(threadId: string): Run[] {
    const runs: Run[] = [];
    for (const run of this.col.candidates([["active", threadId]])) {
      if (run.thread_id === threadId && isActive(run)) runs.push(run);
    }
    return runs.sort(oldestFirst);
  }

  #require(runId: string, scope: Scope | undefined): Run {
    const run = this.col.get(runId);
    if (!run || !this.#visible(run, scope)) throw new NotFoundError(WHAT, runId);
    return run;
  }

  /** A run is visible when its thread is (a run whose thread is gone only unscoped). */
  #visible(run: Run, scope: Scope | undefined): boolean {
    const visible = scopePredicate(scope);
    return visible === undefined || visible(this.threads.get(run.thread_id)?.metadata);
  }
}
