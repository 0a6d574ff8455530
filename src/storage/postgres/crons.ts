/** CronsRepository on the `crons` table. */
import { v4 as uuidv4 } from "uuid";
import { NotFoundError } from "../errors.js";
import type { Cron } from "../records.js";
import type { CronCreate, CronFilter, CronSearch, CronsRepository, CronUpdate, Page, Scope } from "../types.js";
import type { Database } from "./database.js";
import { scopeConditions } from "./scope.js";
import { iso, isoNow, jsonCopy, orderBy, Params, searchPage, where } from "./sql.js";

const WHAT = "Cron";
const SORTABLE = new Set(["cron_id", "assistant_id", "thread_id", "next_run_date", "end_time", "created_at", "updated_at"]);
export const CRON_COLUMNS = `cron_id, assistant_id, thread_id, on_run_completed, end_time, schedule, timezone, created_at, updated_at,
  payload, user_id, next_run_date, metadata, enabled, auth_user`;

export interface CronRow {
  cron_id: string;
  assistant_id: string | null;
  thread_id: string | null;
  on_run_completed: Cron["on_run_completed"] | null;
  end_time: Date | null;
  schedule: string;
  timezone: string | null;
  created_at: Date;
  updated_at: Date;
  payload: Cron["payload"];
  user_id: string | null;
  next_run_date: Date | null;
  metadata: Cron["metadata"];
  enabled: boolean;
  auth_user: Cron["auth_user"];
}

export function toCron(row: CronRow): Cron {
  return {
    cron_id: row.cron_id,
    assistant_id: row.assistant_id,
    thread_id: row.thread_id,
    ...(row.on_run_completed !== null ? { on_run_completed: row.on_run_completed } : {}),
    end_time: iso(row.end_time),
    schedule: row.schedule,
    timezone: row.timezone,
    created_at: iso(row.created_at)!,
    updated_at: iso(row.updated_at)!,
    payload: row.payload,
    user_id: row.user_id,
    next_run_date: iso(row.next_run_date),
    metadata: row.metadata,
    enabled: row.enabled,
    auth_user: row.auth_user,
  };
}

/** Columns an update may set, with how each value is sent. */
const UPDATABLE: Record<keyof CronUpdate, "json" | "plain"> = {
  schedule: "plain",
  timezone: "plain",
  end_time: "plain",
  on_run_completed: "plain",
  payload: "json",
  metadata: "json",
  enabled: "plain",
  next_run_date: "plain",
};

export class PostgresCrons implements CronsRepository {
  constructor(private readonly db: Database) {}

  async create(input: CronCreate): Promise<Cron> {
    const at = isoNow();
    const { rows } = await this.db.query<CronRow>(
      `INSERT INTO crons (${CRON_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9, $10, $11, $12, $13, $14)
       RETURNING ${CRON_COLUMNS}`,
      [
        uuidv4(),
        input.assistant_id,
        input.thread_id ?? null,
        input.on_run_completed ?? null,
        input.end_time ?? null,
        input.schedule,
        input.timezone ?? null,
        at,
        JSON.stringify(input.payload),
        input.auth_user?.identity ?? null,
        input.next_run_date,
        JSON.stringify(input.metadata ?? {}),
        input.enabled ?? true,
        input.auth_user ? JSON.stringify(input.auth_user) : null,
      ],
    );
    return toCron(rows[0]);
  }

  async get(cronId: string, scope?: Scope): Promise<Cron> {
    const params = new Params();
    const conditions = [`cron_id = ${params.add(cronId)}`, ...scopeConditions(params, scope)];
    const { rows } = await this.db.query<CronRow>(`SELECT ${CRON_COLUMNS} FROM crons WHERE ${where(conditions)}`, params.values);
    if (!rows[0]) throw new NotFoundError(WHAT, cronId);
    return toCron(rows[0]);
  }

  async update(cronId: string, update: CronUpdate, scope?: Scope): Promise<Cron> {
    const params = new Params();
    const sets = [`updated_at = ${params.add(isoNow())}`];
    for (const [field, kind] of Object.entries(UPDATABLE) as Array<[keyof CronUpdate, string]>) {
      const value = update[field];
      if (value === undefined) continue;
      sets.push(`${field} = ${kind === "json" ? params.json(value) : params.add(jsonCopy(value))}`);
    }
    const conditions = [`cron_id = ${params.add(cronId)}`, ...scopeConditions(params, scope)];
    const { rows } = await this.db.query<CronRow>(
      `UPDATE crons SET ${sets.join(", ")} WHERE ${where(conditions)} RETURNING ${CRON_COLUMNS}`,
      params.values,
    );
    if (!rows[0]) throw new NotFoundError(WHAT, cronId);
    return toCron(rows[0]);
  }

  async delete(cronId: string, scope?: Scope): Promise<void> {
    const params = new Params();
    const conditions = [`cron_id = ${params.add(cronId)}`, ...scopeConditions(params, scope)];
    const { rowCount } = await this.db.query(`DELETE FROM crons WHERE ${where(conditions)}`, params.values);
    if (rowCount === 0) throw new NotFoundError(WHAT, cronId);
  }

  async search(query: CronSearch = {}, scope?: Scope): Promise<Page<Cron>> {
    const params = new Params();
    const filter = conditions(params, query.filter, scope);
    const sortBy = SORTABLE.has(query.sortBy ?? "") ? query.sortBy! : "created_at";
    return searchPage(this.db, {
      columns: CRON_COLUMNS,
      table: "crons",
      filter,
      params,
      order: orderBy(sortBy, query.sortOrder, "cron_id"),
      window: query,
      toItem: toCron,
      countAll: () => this.count(query.filter, scope),
    });
  }

  async count(filter?: CronFilter, scope?: Scope): Promise<number> {
    const params = new Params();
    const { rows } = await this.db.query<{ n: string }>(`SELECT count(*) AS n FROM crons WHERE ${conditions(params, filter, scope)}`, params.values);
    return Number(rows[0].n);
  }

  async enabled(): Promise<Cron[]> {
    const { rows } = await this.db.query<CronRow>(`SELECT ${CRON_COLUMNS} FROM crons WHERE enabled ORDER BY next_run_date`);
    return rows.map(toCron);
  }

  async deleteThread(threadId: string): Promise<number> {
    const { rowCount } = await this.db.query("DELETE FROM crons WHERE thread_id = $1", [threadId]);
    return rowCount;
  }
}

function conditions(params: Params, filter: CronFilter | undefined, scope: Scope | undefined): string {
  const c = scopeConditions(params, scope);
  if (filter?.thread_id) c.push(`thread_id = ${params.add(filter.thread_id)}`);
  if (filter?.assistant_id) c.push(`assistant_id = ${params.add(filter.assistant_id)}`);
  if (filter?.enabled !== undefined) c.push(`enabled = ${params.add(filter.enabled)}`);
  if (filter?.metadata) c.push(`metadata @> ${params.json(filter.metadata)}`);
  return where(c);
}
