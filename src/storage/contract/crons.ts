/** Storage contract: the crons repository. */
import type { Cron, Metadata, StoredUser } from "../records.js";
import type { Page, Scope, SearchQuery } from "./common.js";

export interface CronCreate {
  assistant_id: string;
  /** null: each firing runs on a new thread */
  thread_id: string | null;
  schedule: string;
  timezone: string | null;
  end_time: string | null;
  /** stateless crons only: what happens to each run's thread */
  on_run_completed?: Cron["on_run_completed"];
  /** run parameters of every firing */
  payload: Record<string, unknown>;
  metadata?: Metadata;
  /** default true */
  enabled?: boolean;
  next_run_date: string | null;
  /** The user the firings run as (null: no authentication); `user_id` becomes its identity. */
  auth_user?: StoredUser | null;
}

/** Each given field replaces the stored one. */
export type CronUpdate = Partial<
  Pick<Cron, "schedule" | "timezone" | "end_time" | "on_run_completed" | "payload" | "metadata" | "enabled" | "next_run_date">
>;

export interface CronFilter {
  assistant_id?: string;
  thread_id?: string;
  enabled?: boolean;
  /** JSON containment (`metadata @> filter`) */
  metadata?: Metadata;
}

export type CronSortBy = "cron_id" | "assistant_id" | "thread_id" | "next_run_date" | "end_time" | "created_at" | "updated_at";
export type CronSearch = SearchQuery<CronFilter, CronSortBy>;

export interface CronsRepository {
  create(input: CronCreate): Promise<Cron>;
  get(cronId: string, scope?: Scope): Promise<Cron>;
  update(cronId: string, update: CronUpdate, scope?: Scope): Promise<Cron>;
  delete(cronId: string, scope?: Scope): Promise<void>;
  search(query?: CronSearch, scope?: Scope): Promise<Page<Cron>>;
  count(filter?: CronFilter, scope?: Scope): Promise<number>;
  /** Every enabled cron, for the scheduler. */
  enabled(): Promise<Cron[]>;
  /** Deletes the crons of a thread (the thread was deleted); returns how many. */
  deleteThread(threadId: string): Promise<number>;
}
