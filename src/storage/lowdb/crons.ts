/** CronsRepository over a lowdb `Collection<Cron>`. */
import { v4 as uuidv4 } from "uuid";
import { NotFoundError } from "../errors.js";
import type { Cron } from "../records.js";
import type { CronCreate, CronFilter, CronSearch, CronsRepository, CronUpdate, Page, Scope } from "../types.js";
import { Collection, type CollectionOptions } from "./collection.js";
import { copy, now } from "./json.js";
import { containsPredicate } from "./match.js";
import { byField, countWhere, paginate } from "./page.js";
import { inScope, scopePredicate } from "../scope.js";

const WHAT = "Cron";

export function cronCollectionOptions(dir: string, shards: number): CollectionOptions<Cron> {
  return {
    dir,
    shards,
    idOf: (c) => c.cron_id,
    indexes: {
      thread_id: (c) => c.thread_id,
      assistant_id: (c) => c.assistant_id,
      enabled: (c) => String(c.enabled),
    },
  };
}

export class LowdbCrons implements CronsRepository {
  constructor(private readonly col: Collection<Cron>) {}

  async create(input: CronCreate): Promise<Cron> {
    const at = now();
    const cron: Cron = {
      cron_id: uuidv4(),
      assistant_id: input.assistant_id,
      thread_id: input.thread_id ?? null,
      on_run_completed: input.on_run_completed,
      end_time: input.end_time ?? null,
      schedule: input.schedule,
      timezone: input.timezone ?? null,
      created_at: at,
      updated_at: at,
      payload: copy(input.payload),
      user_id: input.auth_user?.identity ?? null,
      next_run_date: input.next_run_date,
      metadata: copy(input.metadata ?? {}),
      enabled: input.enabled ?? true,
      auth_user: copy(input.auth_user ?? null),
    };
    await this.col.put(cron);
    return copy(cron);
  }

  async get(cronId: string, scope?: Scope): Promise<Cron> {
    const cron = this.#require(cronId, scope);
    await this.col.settled(cronId);
    return copy(cron);
  }

  async update(cronId: string, update: CronUpdate, scope?: Scope): Promise<Cron> {
    const current = this.#require(cronId, scope);
    const next: Cron = { ...current, ...copy(update), updated_at: now() };
    await this.col.put(next);
    return copy(next);
  }

  async delete(cronId: string, scope?: Scope): Promise<void> {
    this.#require(cronId, scope);
    await this.col.delete(cronId);
  }

  async search(query: CronSearch = {}, scope?: Scope): Promise<Page<Cron>> {
    const compare = byField<Cron>(query.sortBy ?? "created_at", query.sortOrder ?? "desc", (c) => c.cron_id);
    const page = paginate(this.#candidates(query.filter), matcher(query.filter, scope), compare, query);
    return { items: page.items.map(copy), total: page.total };
  }

  async count(filter?: CronFilter, scope?: Scope): Promise<number> {
    return countWhere(this.#candidates(filter), matcher(filter, scope));
  }

  async enabled(): Promise<Cron[]> {
    // candidates() narrows by index but may return more: the predicate decides
    return [...this.col.candidates([["enabled", "true"]])].filter((c) => c.enabled).map(copy);
  }

  async deleteThread(threadId: string): Promise<number> {
    const crons = [...this.col.candidates([["thread_id", threadId]])].filter((c) => c.thread_id === threadId);
    await Promise.all(crons.map((cron) => this.col.delete(cron.cron_id)));
    return crons.length;
  }

  #require(cronId: string, scope: Scope | undefined): Cron {
    const cron = this.col.get(cronId);
    if (!cron || !inScope(cron.metadata, scope)) throw new NotFoundError(WHAT, cronId);
    return cron;
  }

  #candidates(filter: CronFilter | undefined): Iterable<Cron> {
    const eq: Array<readonly [string, string]> = [];
    if (filter?.thread_id) eq.push(["thread_id", filter.thread_id]);
    if (filter?.assistant_id) eq.push(["assistant_id", filter.assistant_id]);
    if (filter?.enabled !== undefined) eq.push(["enabled", String(filter.enabled)]);
    return this.col.candidates(eq);
  }
}

function matcher(filter: CronFilter | undefined, scope: Scope | undefined): (c: Cron) => boolean {
  const visible = scopePredicate(scope);
  const metadata = filter?.metadata && containsPredicate(filter.metadata);
  return (c) =>
    (visible === undefined || visible(c.metadata)) &&
    (filter?.thread_id === undefined || c.thread_id === filter.thread_id) &&
    (filter?.assistant_id === undefined || c.assistant_id === filter.assistant_id) &&
    (filter?.enabled === undefined || c.enabled === filter.enabled) &&
    (metadata === undefined || metadata(c.metadata));
}
